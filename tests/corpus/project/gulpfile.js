const { src, dest, series } = require("gulp");

function scripts() {
  return src("src/**/*.js").pipe(dest("build"));
}

exports.build = series(scripts);
exports.default = exports.build;
