// The statistics report's charts, with Chart.js: loaded by a dynamic
// import when the report first opens, so the map's first load does not
// carry it (esbuild puts it in a chunk of its own). Only the pieces used
// are registered, which keeps the chunk small.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController,
  LineElement, PointElement, Tooltip);

// Colours with enough contrast on white, told apart by more than hue too
// (bars against a line).
const REPORTED = '#1f6fb2';
const RESOLVED = '#2e7d32';
const RATE = '#b35900';

const FONT = { family: '"Noto Sans", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif' };

/**
 * Draw the monthly trend (reported and resolved as bars, the resolution
 * rate as a line on its own axis) and the per-category split. Returns an
 * object whose destroy() removes both.
 */
export function drawCharts(trendCanvas, categoryCanvas, stats, categoryNames) {
  Chart.defaults.font = { ...Chart.defaults.font, ...FONT };
  Chart.defaults.locale = 'zh-CN';
  // Printing and tests want the final picture, not an animation.
  Chart.defaults.animation = false;
  const months = stats.months ?? [];
  const trend = new Chart(trendCanvas, {
    type: 'bar',
    data: {
      labels: months.map((m) => m.month),
      datasets: [
        { label: '上报', data: months.map((m) => m.reported), backgroundColor: REPORTED, yAxisID: 'count' },
        { label: '办结', data: months.map((m) => m.resolved), backgroundColor: RESOLVED, yAxisID: 'count' },
        {
          type: 'line',
          label: '办结率',
          data: months.map((m) => (m.resolution_rate === null ? null : m.resolution_rate * 100)),
          borderColor: RATE,
          backgroundColor: RATE,
          yAxisID: 'rate',
        },
      ],
    },
    options: {
      maintainAspectRatio: false,
      scales: {
        count: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: '件数' } },
        rate: {
          type: 'linear', position: 'right', min: 0, max: 100,
          grid: { drawOnChartArea: false }, title: { display: true, text: '办结率（%）' },
        },
      },
    },
  });
  const codes = Object.keys(stats.total.by_category ?? {});
  const byCategory = new Chart(categoryCanvas, {
    type: 'bar',
    data: {
      labels: codes.map((c) => categoryNames.get(c) ?? c),
      datasets: [
        { label: '上报', data: codes.map((c) => stats.total.by_category[c].reported), backgroundColor: REPORTED },
        { label: '办结', data: codes.map((c) => stats.total.by_category[c].resolved), backgroundColor: RESOLVED },
      ],
    },
    options: { maintainAspectRatio: false, indexAxis: 'y', scales: { x: { beginAtZero: true } } },
  });
  return {
    destroy() {
      trend.destroy();
      byCategory.destroy();
    },
  };
}
