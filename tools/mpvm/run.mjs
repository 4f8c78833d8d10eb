// Run a Python script inside the official MicroPython WebAssembly port.
//
//   node tools/mpvm/run.mjs [--heapsize BYTES] [--async] [--copy HOSTDIR:VMDIR]... SCRIPT.py
//
// Each --copy puts a host directory tree into the VM's filesystem (as
// `mpremote cp -r` would onto a board).  The script's output goes to
// stdout unchanged; an uncaught exception prints its traceback to stderr
// and the exit status is 1.  With --async the script runs as a coroutine and may
// await at its top level (control then returns to JavaScript, where this port
// collects garbage: ports/webassembly/main.c, gc_collect).
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";

function copyTree(FS, hostDir, vmDir) {
  FS.mkdirTree(vmDir);
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    if (entry.name === "__pycache__") continue;
    const host = path.join(hostDir, entry.name);
    const vm = path.posix.join(vmDir, entry.name);
    if (entry.isDirectory()) copyTree(FS, host, vm);
    else FS.writeFile(vm, fs.readFileSync(host));
  }
}

const args = process.argv.slice(2);
let heapsize = 1024 * 1024;
const copies = [];
let script = null;
let asynchronous = false;
while (args.length) {
  const arg = args.shift();
  if (arg === "--heapsize") heapsize = parseInt(args.shift(), 10);
  else if (arg === "--copy") copies.push(args.shift());
  else if (arg === "--async") asynchronous = true;
  else script = arg;
}
if (!script) {
  process.stderr.write("usage: run.mjs [--heapsize N] [--async] [--copy HOST:VM]... SCRIPT.py\n");
  process.exit(2);
}

const mp = await loadMicroPython({
  heapsize,
  linebuffer: false,
  stdout: (bytes) => process.stdout.write(bytes),
  stderr: (bytes) => process.stderr.write(bytes),
});
for (const spec of copies) {
  const split = spec.lastIndexOf(":");
  copyTree(mp.FS, spec.slice(0, split), spec.slice(split + 1));
}
try {
  const source = fs.readFileSync(script, "utf8");
  if (asynchronous) await mp.runPythonAsync(source);
  else mp.runPython(source);
} catch (error) {
  process.stderr.write(String(error.message || error) + "\n");
  process.exitCode = 1;
}
