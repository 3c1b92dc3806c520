// charts.js - the console's charts, all drawn by Chart.js 4 (the global
// `Chart` from /ui/vendor/chart.umd.js, loaded before the modules).
//
// A chart is made once per page and updated in place on every refresh,
// without animation, so a wall screen does not flicker.

import {h, fmtTime, fmtNum} from './dom.js';

const C = () => window.Chart;

export function chartsAvailable() {
  return typeof C() === 'function';
}

let themed = false;
function theme() {
  if (themed || !chartsAvailable()) return;
  themed = true;
  const d = C().defaults;
  d.color = '#c9d3e3';
  d.borderColor = 'rgba(160, 176, 200, 0.18)';
  d.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  d.font.size = 13;
  d.animation = false;
  d.maintainAspectRatio = false;
  d.responsive = true;
  d.plugins.legend.display = false;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

function hhmm(ms) {
  const d = new Date(ms);
  return pad(d.getHours()) + ':' + pad(d.getMinutes());
}

/** The box a chart lives in (Chart.js sizes the canvas to it). */
export function chartBox(canvas, cls) {
  return h('div', {class: ['chart-box', cls]}, canvas);
}

/**
 * The risk meter's history as a line: x time, y value.
 * update(samples) with the API's [{time, value, ...}] oldest first.
 */
export function riskChart(canvas) {
  theme();
  if (!chartsAvailable()) return {update() {}, destroy() {}};
  const chart = new (C())(canvas, {
    type: 'line',
    data: {datasets: [{
      label: 'risk',
      data: [],
      borderColor: '#ff8a3d',
      backgroundColor: 'rgba(255, 138, 61, 0.18)',
      fill: true,
      tension: 0.2,
      pointRadius: 3,
      stepped: false,
    }]},
    options: {
      parsing: false,
      scales: {
        x: {type: 'linear', ticks: {callback: (v) => hhmm(v), maxTicksLimit: 8}},
        y: {beginAtZero: true, ticks: {callback: (v) => fmtNum(v)}},
      },
      plugins: {tooltip: {callbacks: {
        title: (items) => (items.length ? fmtTime(items[0].parsed.x, true) : ''),
        label: (item) => 'risk ' + fmtNum(item.parsed.y),
      }}},
    },
  });
  return {
    update(samples) {
      chart.data.datasets[0].data = (samples || []).map((s) => ({x: Date.parse(s.time), y: s.value}));
      chart.update('none');
    },
    destroy() {
      chart.destroy();
    },
  };
}

/**
 * Alerts per hour: bars per bucket.  update(buckets) with the API's
 * [{time, alerts}] oldest first.
 */
export function alertRateChart(canvas) {
  theme();
  if (!chartsAvailable()) return {update() {}, destroy() {}};
  const chart = new (C())(canvas, {
    type: 'bar',
    data: {labels: [], datasets: [{
      label: 'alerts',
      data: [],
      backgroundColor: 'rgba(92, 167, 255, 0.75)',
      borderColor: '#5ca7ff',
      borderWidth: 1,
      barPercentage: 0.95,
      categoryPercentage: 0.95,
    }]},
    options: {
      scales: {
        x: {ticks: {maxTicksLimit: 12, autoSkip: true}},
        y: {beginAtZero: true, ticks: {precision: 0}},
      },
      plugins: {tooltip: {callbacks: {
        title: (items) => (items.length ? items[0].label + ' (hour starting)' : ''),
        label: (item) => item.parsed.y + ' alerts',
      }}},
    },
  });
  return {
    update(buckets) {
      const b = buckets || [];
      chart.data.labels = b.map((x) => hhmm(Date.parse(x.time)));
      chart.data.datasets[0].data = b.map((x) => x.alerts);
      chart.update('none');
    },
    destroy() {
      chart.destroy();
    },
  };
}
