"""Image resolution time for 50 distinct images against a local registry, cold and cached.

Starts Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with a temporary storage
directory, pushes 50 images through its HTTP API (a third OCI indexes with linux + windows
variants, a third Docker schema 2 Linux images, a third single Windows images; pushing is not
timed), then times ``resolve_images`` over all 50:

- cold: empty cache, every image fetched from the registry (manifest, plus the config blob for
  single manifests), ``concurrency`` lookups at a time;
- cached: the same run again, answered from the cache file (no request);
- offline: ``offline=True``, from the cache alone.

    python bench/images.py                  # 50 images, 5 repeats, concurrency 4
    python bench/images.py --images 200 --concurrency 8

Prints the median and the spread of each figure; not a timed test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.imageregistry import REGISTRY_BINARY, Pusher, Registry
from winfix.images import Status, resolve_images

LINUX = {"os": "linux", "architecture": "amd64"}
WINDOWS = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2113"}


def push_images(registry: Registry, count: int) -> list[str]:
    pusher = Pusher(registry)
    refs = []
    for number in range(count):
        repo, kind = f"bench/app{number:03d}", number % 3
        if kind == 0:
            pusher.index(repo, "1", [LINUX, WINDOWS])
        else:
            pusher.image(repo, "1", LINUX if kind == 1 else WINDOWS, oci=kind == 2)
        refs.append(f"{registry.host}/{repo}:1")
    return refs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        print(f"{REGISTRY_BINARY} is not installed (apt-get install docker-registry)")
        return 2
    with tempfile.TemporaryDirectory(prefix="winfix-bench-images-") as temporary:
        root = Path(temporary)
        registry = Registry(binary, root / "registry").start(root / "storage")
        try:
            refs = push_images(registry, args.images)
            cold, cached, offline = [], [], []
            for repeat in range(args.repeats):
                cache = root / f"cache-{repeat}.json"

                def run(cache: Path = cache, **options: object) -> float:
                    started = time.perf_counter()
                    results = resolve_images(
                        refs,
                        windows_version="2022",
                        cache_path=cache,
                        insecure_registries=[registry.host],
                        concurrency=args.concurrency,
                        **options,  # type: ignore[arg-type]
                    )
                    elapsed = time.perf_counter() - started
                    statuses = {r.status for r in results.values()}
                    assert statuses == {Status.RUNS, Status.LINUX_ONLY}, statuses
                    return elapsed

                before = len(registry.requests())
                cold.append(run())
                fetched = len(registry.requests()) - before
                cached.append(run())
                offline.append(run(offline=True))
                assert len(registry.requests()) - before == fetched  # cached runs asked nothing
        finally:
            registry.stop()
    print(f"{args.images} distinct images, concurrency {args.concurrency}, {args.repeats} repeats")
    print(f"registry requests per cold run: {fetched}")
    for name, times in (("cold", cold), ("cached", cached), ("offline", offline)):
        print(
            f"{name:8} median {statistics.median(times) * 1000:8.1f} ms"
            f"  (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
