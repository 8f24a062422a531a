// Draws the charts of templates/charts/chart.html with Chart.js, from the data each one carries in
// a json_script element. Each include loads this file; it runs once and loads Chart.js once. The
// table beside each chart holds the same numbers: it stays open when the chart cannot be drawn.
(() => {
  if (window.cohortlyCharts) {
    return;
  }
  window.cohortlyCharts = true;

  // Okabe-Ito's colour-blind safe palette, darkened where needed for 3:1 against white.
  const PALETTE = ["#0072B2", "#D55E00", "#007A5A", "#B2458E", "#6A51A3", "#8A6A00", "#595959"];
  const library = document.currentScript.dataset.library;
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  const withUnit = (value, unit) => (value === null ? "–" : `${value}${unit}`);

  // The canvas fills a Bootstrap ratio box (so that it never props its column open): flatter
  // when wide, taller on phones so that bars and labels stay readable.
  const phone = window.matchMedia("(max-width: 575.98px)");
  const RATIOS = ["ratio-1x1", "ratio-4x3", "ratio-16x9", "ratio-21x9"];
  const shape = (box, figure, type) => {
    const funnel = type === "funnel";
    let ratio = funnel ? "ratio-16x9" : "ratio-21x9";
    if (phone.matches) {
      ratio = funnel ? "ratio-1x1" : "ratio-4x3";
    } else if (figure.clientWidth < 700) {
      ratio = funnel ? "ratio-4x3" : "ratio-16x9";
    }
    box.classList.remove(...RATIOS);
    box.classList.add(ratio);
  };

  const options = (chart) => {
    const horizontal = chart.type === "funnel";
    const valueAxis = horizontal ? "x" : "y";
    const categoryAxis = horizontal ? "y" : "x";
    const percent = chart.unit === "%";
    return {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion.matches ? false : { duration: 400 },
      plugins: {
        legend: { display: chart.datasets.length > 1, position: "bottom" },
        tooltip: {
          callbacks: {
            label: (item) => `${item.dataset.label}: ${withUnit(item.raw, chart.unit)}`,
          },
        },
      },
      scales: {
        [categoryAxis]: { stacked: chart.stacked, ticks: { autoSkip: true } },
        [valueAxis]: {
          stacked: chart.stacked,
          beginAtZero: true,
          max: percent ? 100 : undefined,
          ticks: {
            precision: 0,
            callback: (value) => withUnit(value, chart.unit),
          },
        },
      },
    };
  };

  const datasets = (chart) =>
    chart.datasets.map((dataset, index) => {
      const colour = PALETTE[index % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: chart.type === "line" ? 2 : 0,
        pointRadius: chart.type === "line" ? 3 : 0,
        spanGaps: true,
      };
    });

  const draw = (figure) => {
    const data = document.getElementById(figure.dataset.chart);
    const canvas = figure.querySelector("canvas");
    if (!data || !canvas || window.Chart.getChart(canvas)) {
      return;
    }
    const chart = JSON.parse(data.textContent);
    const box = figure.querySelector(".chart-canvas");
    shape(box, figure, chart.type);
    phone.addEventListener("change", () => shape(box, figure, chart.type));
    box.hidden = false;
    new window.Chart(canvas, {
      type: chart.type === "line" ? "line" : "bar",
      data: { labels: chart.labels, datasets: datasets(chart) },
      options: options(chart),
    });
    const table = figure.querySelector("details.chart-table");
    if (table) {
      table.open = false;
    }
  };

  const drawWithin = (root) => {
    root.querySelectorAll("figure[data-chart]").forEach(draw);
  };

  const loaded = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = library;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });

  loaded.then(
    () => {
      drawWithin(document);
      // Charts in content that htmx brings in later.
      document.body.addEventListener("htmx:load", (event) => drawWithin(event.target));
    },
    // Without the library the tables stay open in the charts' place: the numbers still read.
    () => {},
  );
})();
