import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import os from 'node:os';

/**
 * The host the server runs on, in the shape Vault's sys/host-info answers (gopsutil's field
 * names): CPUs, CPU times, disk usage, the host and its memory. Read from node:os and, on
 * Linux, /proc; what a platform cannot tell is zero or empty.
 */
export function hostInfo(): Record<string, unknown> {
  return { cpu: cpus(), cpu_times: [cpuTimes()], disk: disks(), host: host(), memory: memory(), timestamp: new Date().toISOString() };
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** /proc/cpuinfo as one record of "key: value" lines per processor. */
function cpuinfo(): Record<string, string>[] {
  return read('/proc/cpuinfo')
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => Object.fromEntries(block.split('\n').map((l) => l.split(/\t*: ?/, 2).map((s) => s.trim()) as [string, string])));
}

function cpus(): Record<string, unknown>[] {
  const info = cpuinfo();
  return os.cpus().map((c, i) => {
    const p = info[i] ?? {};
    return {
      cpu: i,
      vendorId: p['vendor_id'] ?? '',
      family: p['cpu family'] ?? '',
      model: p['model'] ?? '',
      stepping: Number(p['stepping'] ?? 0),
      physicalId: p['physical id'] ?? '',
      coreId: p['core id'] ?? '',
      cores: Number(p['cpu cores'] ?? 1),
      modelName: c.model,
      mhz: c.speed,
      cacheSize: parseInt(p['cache size'] ?? '0', 10) || 0,
      flags: (p['flags'] ?? '').split(' ').filter(Boolean),
      microcode: p['microcode'] ?? '',
    };
  });
}

/** Every CPU's times added up, in seconds, as gopsutil's cpu.Times(false). */
function cpuTimes(): Record<string, unknown> {
  const t = { user: 0, system: 0, idle: 0, nice: 0, irq: 0 };
  for (const c of os.cpus()) {
    t.user += c.times.user;
    t.system += c.times.sys;
    t.idle += c.times.idle;
    t.nice += c.times.nice;
    t.irq += c.times.irq;
  }
  const s = (ms: number) => ms / 1000;
  return { cpu: 'cpu-total', user: s(t.user), system: s(t.system), idle: s(t.idle), nice: s(t.nice), iowait: 0, irq: s(t.irq), softirq: 0, steal: 0, guest: 0, guestNice: 0 };
}

/** File systems that hold data (not proc, sysfs, cgroups and the like), each once. */
const REAL_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'overlay', 'tmpfs', 'vfat', 'f2fs', 'nfs', 'nfs4', 'apfs', 'hfs']);

function disks(): Record<string, unknown>[] {
  const mounts = read('/proc/mounts')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 2 && REAL_FS.has(f[2]!) && !f[1]!.startsWith('/dev') && !f[1]!.startsWith('/run') && !f[1]!.startsWith('/sys'));
  const targets = mounts.length ? mounts.map((f) => ({ path: f[1]!.replace(/\\040/g, ' '), fstype: f[2]! })) : [{ path: '/', fstype: '' }];
  const out: Record<string, unknown>[] = [];
  for (const { path, fstype } of targets) {
    try {
      const st = statfsSync(path);
      const total = st.blocks * st.bsize;
      const free = st.bavail * st.bsize;
      const used = (st.blocks - st.bfree) * st.bsize;
      const inodesUsed = st.files - st.ffree;
      out.push({
        path,
        fstype,
        total,
        free,
        used,
        usedPercent: used + free > 0 ? (used / (used + free)) * 100 : 0,
        inodesTotal: st.files,
        inodesUsed,
        inodesFree: st.ffree,
        inodesUsedPercent: st.files > 0 ? (inodesUsed / st.files) * 100 : 0,
      });
    } catch {
      // A mount the process may not look at is left out.
    }
  }
  return out;
}

function host(): Record<string, unknown> {
  const release = Object.fromEntries(
    read('/etc/os-release')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]),
  );
  const uptime = Math.floor(os.uptime());
  const procs = (() => {
    try {
      return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
    } catch {
      return 0;
    }
  })();
  return {
    hostname: os.hostname(),
    uptime,
    bootTime: Math.floor(Date.now() / 1000) - uptime,
    procs,
    os: process.platform,
    platform: release['ID'] ?? '',
    platformFamily: release['ID_LIKE'] ?? release['ID'] ?? '',
    platformVersion: release['VERSION_ID'] ?? '',
    kernelVersion: os.release(),
    kernelArch: os.machine(),
    virtualizationSystem: '',
    virtualizationRole: '',
    hostid: read('/etc/machine-id').trim(),
  };
}

function memory(): Record<string, unknown> {
  const info = Object.fromEntries(
    read('/proc/meminfo')
      .split('\n')
      .map((l) => /^(\w+):\s+(\d+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, Number(m[2]) * 1024]),
  );
  const total = os.totalmem();
  const free = os.freemem();
  const available = info['MemAvailable'] ?? free;
  const used = total - available;
  return {
    total,
    available,
    used,
    usedPercent: total > 0 ? (used / total) * 100 : 0,
    free,
    buffers: info['Buffers'] ?? 0,
    cached: info['Cached'] ?? 0,
    swapTotal: info['SwapTotal'] ?? 0,
    swapFree: info['SwapFree'] ?? 0,
  };
}
