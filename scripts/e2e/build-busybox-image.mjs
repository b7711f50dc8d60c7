#!/usr/bin/env node
// Builds a busybox container image from Debian's busybox-static, with no registry:
//
//   node scripts/e2e/build-busybox-image.mjs OUT_DIR [NAME [CMD...]]
//
// OUT_DIR/busybox-image.tar is one archive in both layouts clients load: an OCI image layout
// (oci-layout, index.json, blobs/sha256/...) for `ctr images import` and podman's oci-archive,
// and docker's manifest.json (pointing at the same blobs) for `docker load` and podman's
// docker-archive. OUT_DIR/busybox-rootfs.tar is the bare layer, for `docker import` and
// `podman import`. NAME defaults to localhost/tsrun-e2e/busybox:latest, CMD (the image's default
// command) to sh; a CRI sandbox image needs one that keeps running, e.g. `sleep inf`.
// The layer is built with fixed owners, order and times, so the image id is the same every time.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const [outDir, name = 'localhost/tsrun-e2e/busybox:latest', ...cmdArgs] = process.argv.slice(2);
const cmd = cmdArgs.length ? cmdArgs : ['sh'];
if (!outDir) {
  console.error('usage: build-busybox-image.mjs OUT_DIR [NAME [CMD...]]');
  process.exit(2);
}
const BUSYBOX = '/bin/busybox';
const ARCH = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[process.arch];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-image-'));
try {
  const rootfs = path.join(work, 'rootfs');
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'root', 'tmp', 'var', 'run', 'home']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.chmodSync(path.join(rootfs, 'root'), 0o700);
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  // hard links: no absolute symlink targets, one inode in the layer
  run(path.join(rootfs, 'bin/busybox'), ['--install', path.join(rootfs, 'bin')]);
  fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');

  const layerTar = path.join(outDir, 'busybox-rootfs.tar');
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', rootfs, '-cf', layerTar, '.']);

  const oci = path.join(work, 'oci');
  const blobs = path.join(oci, 'blobs/sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const putBlob = (data) => {
    const hex = createHash('sha256').update(data).digest('hex');
    fs.writeFileSync(path.join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length, file: `blobs/sha256/${hex}` };
  };
  const layer = putBlob(fs.readFileSync(layerTar));
  const created = '1970-01-01T00:00:00Z';
  const config = putBlob(Buffer.from(JSON.stringify({
    created,
    architecture: ARCH,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created, created_by: 'tsrun scripts/e2e/build-busybox-image.mjs' }],
  })));
  const manifest = putBlob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
  })));
  const tag = name.slice(name.lastIndexOf(':') + 1);
  fs.writeFileSync(path.join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(oci, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: manifest.digest,
      size: manifest.size,
      platform: { architecture: ARCH, os: 'linux' },
      // containerd names the image from the first, podman's oci-archive from the second
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  fs.writeFileSync(path.join(oci, 'manifest.json'), JSON.stringify([
    { Config: config.file, RepoTags: [name], Layers: [layer.file] },
  ]));
  const imageTar = path.join(outDir, 'busybox-image.tar');
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', oci, '-cf', imageTar, 'oci-layout', 'index.json', 'manifest.json', 'blobs']);
  process.stdout.write(`${imageTar}\n${layerTar}\n`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
