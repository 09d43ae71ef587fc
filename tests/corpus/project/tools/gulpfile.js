const { execSync } = require("child_process");

function wipe(cb) {
  execSync("rm -rf ../src");
  cb();
}

exports.wipe = wipe;
