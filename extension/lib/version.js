// The version this code is: the manifest's version when the code was written (a test checks they agree).
//
// Chromium re-reads an unpacked extension's manifest as it starts but can keep running the worker's old code from
// its cache (a user test after `git pull`: the manifest said the new version, the worker ran the old code without
// the fix that puts routing back after a restart). A manifest newer than this constant means old code is running.
export const CODE_VERSION = "0.2.7";
