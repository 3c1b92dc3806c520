/*
 * layers_link.c - links every object of the bottom layer (util/, event/,
 * decode/) and nothing else; tests/meson.build builds it with link_whole, so
 * a reference from that layer to a symbol of input/ or above is an undefined
 * symbol and this program does not build.  Running it only says it built.
 */
int main(void)
{
    return 0;
}
