// Dashboards of 监督考核: draws each chart with ECharts (served locally, vendor/echarts.min.js) from the
// JSON the page carries (json_script). The tables beside the charts hold the same numbers, so without
// JavaScript, or without ECharts, the page still shows everything; a chart box stays hidden.
(function () {
  "use strict";

  function data(element) {
    var source = document.getElementById(element.dataset.source);
    if (!source) { return null; }
    var parsed = JSON.parse(source.textContent);
    return element.dataset.key ? parsed[element.dataset.key] : parsed;
  }

  var palette = ["#1f5fa8", "#2e9d6b", "#d08a1e", "#c0392b", "#7d4fb0", "#5b6b7c"];

  function pie(rows, element) {
    var total = rows.reduce(function (sum, row) { return sum + row[1]; }, 0);
    if (!total) { return null; }  // nothing to draw: the table says 0 everywhere
    return {
      color: element.dataset.colors ? element.dataset.colors.split(" ") : palette,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0 },
      series: [{
        type: "pie", radius: ["40%", "70%"], bottom: 30, stillShowZeroSum: false,
        label: { show: true, formatter: "{c}" },
        data: rows.map(function (row) { return { name: row[0], value: row[1] }; })
      }]
    };
  }

  function trend(chart) {
    return {
      color: palette,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 90, top: 40, bottom: 40 },
      xAxis: { type: "category", data: chart.labels },
      yAxis: chart.axes.map(function (name, index) {
        return { type: "value", name: name, position: index === 0 ? "left" : "right",
                 offset: index === 2 ? 45 : 0, splitLine: { show: index === 0 } };
      }),
      series: chart.series.map(function (series) {
        return { name: series.name, type: series.axis === 0 ? "bar" : "line", yAxisIndex: series.axis,
                 data: series.data, connectNulls: false };
      })
    };
  }

  function bar(chart) {
    return {
      color: palette,
      tooltip: { trigger: "axis" },
      grid: { left: 140, right: 30, top: 20, bottom: 30 },
      xAxis: { type: "value", name: chart.name },
      yAxis: { type: "category", data: chart.labels.slice().reverse() },
      series: [{ name: chart.name, type: "bar", data: chart.data.slice().reverse() }]
    };
  }

  function heatmap(chart) {
    return {
      tooltip: { position: "top" },
      grid: { left: 70, right: 20, top: 10, bottom: 80 },
      xAxis: { type: "category", data: chart.hours, splitArea: { show: true } },
      yAxis: { type: "category", data: chart.days, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(chart.peak, 1), calculable: true, orient: "horizontal",
                   left: "center", bottom: 0, inRange: { color: ["#f4f8fc", "#1f5fa8"] } },
      series: [{ type: "heatmap", data: chart.cells, label: { show: true } }]
    };
  }

  function forecast(chart) {
    return {
      color: ["#c0392b", "#1f5fa8", "#2e9d6b"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: chart.hours },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: chart.names[0], type: "bar", data: chart.needed },
        { name: chart.names[1], type: "line", step: "middle", data: chart.regular },
        { name: chart.names[2], type: "line", step: "middle", data: chart.available }
      ]
    };
  }

  var builders = { pie: pie, trend: trend, bar: bar, heatmap: heatmap, forecast: forecast };

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var build = builders[element.dataset.chart];
      var chart = data(element);
      if (!build || !chart) { return; }
      var option = build(chart, element);
      if (!option) { return; }
      element.hidden = false;
      if (element.dataset.chart === "bar") {
        element.style.height = Math.max(160, 60 + 32 * chart.labels.length) + "px";
      }
      var instance = window.echarts.init(element);
      instance.setOption(option);
      charts.push(instance);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (instance) { instance.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
