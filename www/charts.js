// A small canvas line chart for the live reports: fixed time window, auto-scaled y axis.
export class LineChart {
  constructor(canvas, series, { seconds = 60 } = {}) {
    this.canvas = canvas;
    this.g = canvas.getContext('2d');
    this.series = series; // [{ label, color }]
    this.seconds = seconds;
    this.points = series.map(() => []);
  }

  push(time, values) {
    values.forEach((v, i) => this.points[i].push([time, v]));
    const from = time - this.seconds * 1000;
    for (const p of this.points) while (p.length && p[0][0] < from) p.shift();
  }

  draw(now = Date.now()) {
    const { canvas: c, g } = this;
    const pad = { l: 44, r: 8, t: 8, b: 16 };
    g.clearRect(0, 0, c.width, c.height);
    const max = Math.max(1, ...this.points.flat().map(([, v]) => v)) * 1.15;
    g.strokeStyle = '#2d3b48';
    g.fillStyle = '#8b98a5';
    g.font = '10px system-ui, sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = pad.t + ((c.height - pad.t - pad.b) * i) / 2;
      g.beginPath(); g.moveTo(pad.l, y); g.lineTo(c.width - pad.r, y); g.stroke();
      const v = max * (1 - i / 2);
      g.fillText(v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(v < 10 ? 1 : 0), 4, y + 3);
    }
    g.fillText(`${this.seconds} s`, pad.l, c.height - 3);
    const x = (t) => pad.l + ((c.width - pad.l - pad.r) * (t - (now - this.seconds * 1000))) / (this.seconds * 1000);
    const y = (v) => pad.t + (c.height - pad.t - pad.b) * (1 - v / max);
    this.points.forEach((pts, i) => {
      g.strokeStyle = this.series[i].color;
      g.lineWidth = 1.6;
      g.beginPath();
      pts.forEach(([t, v], k) => (k ? g.lineTo(x(t), y(v)) : g.moveTo(x(t), y(v))));
      g.stroke();
      g.fillStyle = this.series[i].color;
      g.fillText(this.series[i].label, pad.l + 8 + i * 40, pad.t + 10);
    });
  }
}
