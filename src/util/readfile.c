/*
 * readfile.c - reading a whole regular file with a size cap.
 */
#include "util/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int readfile_all(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int r = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

    *ret_buf = NULL;
    *ret_len = 0;
    if (fd < 0 || fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        r = S_ISREG(st.st_mode) ? -EFBIG : -EISDIR;
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        r = -ENOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            goto out;
        }
        if (n == 0) /* the file shrank while we read: take what is there */
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = len;
    buf = NULL;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return r;
}
