// Loads the reset script.
load("db/wipe.js");
