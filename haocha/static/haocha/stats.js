// Charts of the results pages: every element with data-chart is drawn from the JSON script named in
// data-source; htmx swaps redraw the charts of the new content.
(function () {
  var LEVEL_COLOURS = ["#2e7d32", "#66bb6a", "#fbc02d", "#ef6c00", "#c62828"];

  function empty(el, text) {
    el.textContent = text || "本期暂无数据";
    el.classList.add("empty");
  }

  var builders = {
    trend: function (data) {
      if (!data.labels.length) return null;
      return {
        tooltip: {trigger: "axis"},
        legend: {data: ["评价数", "差评率（%）"]},
        grid: {left: 50, right: 50, bottom: 30},
        xAxis: {type: "category", data: data.labels},
        yAxis: [{type: "value", name: "评价数"}, {type: "value", name: "差评率（%）", splitLine: {show: false}}],
        series: [
          {name: "评价数", type: "bar", data: data.n, itemStyle: {color: "#90a4ae"}},
          {name: "差评率（%）", type: "line", yAxisIndex: 1, data: data.bad_rate, itemStyle: {color: "#c62828"}, connectNulls: true}
        ]
      };
    },
    levels: function (data) {
      var total = data.reduce(function (a, d) { return a + d.value; }, 0);
      if (!total) return null;
      return {
        tooltip: {trigger: "item", formatter: "{b}：{c}（{d}%）"},
        color: LEVEL_COLOURS,
        legend: {bottom: 0},
        series: [{type: "pie", radius: ["35%", "65%"], data: data}]
      };
    },
    channels: function (data) {
      if (!data.length) return null;
      return {
        tooltip: {trigger: "axis"},
        grid: {left: 10, right: 30, top: 10, bottom: 30, containLabel: true},
        xAxis: {type: "value"},
        yAxis: {type: "category", inverse: true, data: data.map(function (d) { return d.name; }), axisLabel: {interval: 0}},
        series: [{type: "bar", data: data.map(function (d) { return d.value; }), itemStyle: {color: "#b71c1c"}}]
      };
    },
    assessment: function (data) {  // total score per unit, stacked by each measure's points
      if (!data.labels.length) return null;
      return {
        tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
        legend: {data: data.series.map(function (s) { return s.name; }), top: 0},
        grid: {left: 10, right: 30, top: 60, bottom: 30, containLabel: true},
        xAxis: {type: "value", max: 100, name: "分"},
        yAxis: {type: "category", inverse: true, data: data.labels,
                axisLabel: {interval: 0, width: 240, overflow: "break", lineHeight: 14}},
        series: data.series.map(function (s) {
          return {name: s.name, type: "bar", stack: "total", data: s.data};
        })
      };
    },
    ranking: function (data) {
      if (!data.labels.length) return null;
      return {
        tooltip: {trigger: "axis"},
        legend: {data: ["排名得分", "满意度得分"]},
        grid: {left: 10, right: 30, top: 30, bottom: 30, containLabel: true},
        xAxis: {type: "value", min: function (v) { return Math.floor(v.min - 1); }},
        yAxis: {type: "category", inverse: true, data: data.labels,
                axisLabel: {interval: 0, width: 260, overflow: "break", lineHeight: 14}},
        series: [
          {name: "排名得分", type: "bar", data: data.smoothed, itemStyle: {color: "#b71c1c"}},
          {name: "满意度得分", type: "bar", data: data.score, itemStyle: {color: "#90a4ae"}}
        ]
      };
    }
  };

  function draw(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.source);
      var build = builders[el.dataset.chart];
      if (!source || !build) return;
      var option = build(JSON.parse(source.textContent));
      var old = echarts.getInstanceByDom(el);
      if (old) old.dispose();
      if (!option) { empty(el, el.dataset.empty); return; }
      el.classList.remove("empty");
      if (el.dataset.rows) {  // one row a bar, every bar labelled
        var rows = option.yAxis.data.length;
        el.style.height = Math.max(240, 40 * rows + 70) + "px";
      }
      echarts.init(el).setOption(option);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { draw(evt.detail.elt || document); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts && echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
