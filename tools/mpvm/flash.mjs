// The board's flash: a host directory loaded into the VM's filesystem at boot, every change
// written through to it at once (a closed file, a rename, a removal), so a killed simulator
// loses no more than a board losing power would (tools/mpvm/board.mjs).
import fs from "node:fs";
import path from "node:path";

const HIDDEN = new Set(["/dev", "/proc", "/tmp", "/home"]); // the VM's own, not the board's flash
const O_ACCMODE = 3;

function loadTree(FS, hostDir, vmDir) {
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const host = path.join(hostDir, entry.name);
    const vm = path.posix.join(vmDir, entry.name);
    if (HIDDEN.has(vm)) continue;
    if (entry.isDirectory()) {
      FS.mkdirTree(vm);
      loadTree(FS, host, vm);
    } else if (entry.isFile()) FS.writeFile(vm, fs.readFileSync(host));
  }
}

// Make ``FS`` (Emscripten's) the board's flash kept in ``hostDir``; ``changed()`` after each change.
export function mountFlash(FS, hostDir, changed) {
  for (const dir of ["/home/web_user", "/home", "/tmp"]) {
    try {
      FS.rmdir(dir);
    } catch {
      // a directory the runtime still uses stays
    }
  }
  loadTree(FS, hostDir, "/");

  const hostPath = (vmPath) => {
    const normal = path.posix.resolve(FS.cwd(), vmPath);
    if (!normal.startsWith("/") || [...HIDDEN].some((p) => normal === p || normal.startsWith(p + "/"))) return null;
    return path.join(hostDir, normal);
  };
  const wrap = (name, after) => {
    const original = FS[name];
    FS[name] = (...args) => {
      const result = original.apply(FS, args);
      after(...args);
      changed();
      return result;
    };
  };
  const close = FS.close;
  FS.close = (stream) => {
    const written = (stream.flags & O_ACCMODE) !== 0 && FS.isFile(stream.node.mode);
    const vmPath = stream.path;
    close.call(FS, stream);
    const host = written && hostPath(vmPath);
    if (host) {
      fs.mkdirSync(path.dirname(host), { recursive: true });
      const tmp = host + ".vmtmp";
      fs.writeFileSync(tmp, FS.readFile(vmPath));
      fs.renameSync(tmp, host);
      changed();
    }
  };
  wrap("rename", (from, to) => {
    const [a, b] = [hostPath(from), hostPath(to)];
    if (a && b && fs.existsSync(a)) {
      fs.mkdirSync(path.dirname(b), { recursive: true });
      fs.renameSync(a, b);
    }
  });
  wrap("unlink", (p) => {
    const host = hostPath(p);
    if (host) fs.rmSync(host, { force: true });
  });
  wrap("mkdir", (p) => {
    const host = hostPath(p);
    if (host) fs.mkdirSync(host, { recursive: true });
  });
  wrap("rmdir", (p) => {
    const host = hostPath(p);
    if (host) fs.rmSync(host, { recursive: true, force: true });
  });
  // A board's VFS takes "" for the current directory (mpremote's `cp x :/` stats it); Emscripten's FS does not.
  for (const name of ["stat", "lstat"]) {
    const original = FS[name];
    FS[name] = (p, ...rest) => original.call(FS, p === "" ? FS.cwd() : p, ...rest);
  }
}

export function isFile(FS, vmPath) {
  try {
    return FS.isFile(FS.stat(vmPath).mode);
  } catch {
    return false;
  }
}
