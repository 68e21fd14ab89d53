/*
 * Linked into podnet-cni only (see Podnet.Cni.csproj: -Wl,--wrap=fopen64).
 *
 * The NativeAOT runtime looks for its cgroup twice at every start (the GC for a memory limit,
 * the runtime for a CPU quota) by reading all of /proc/self/mountinfo. On a node every pod
 * network namespace is a bind mount under /run/netns, so that file grows with the pods: with
 * 436 mounts one read costs about 1.7 ms of CPU (the kernel formats every line), 3.4 ms per
 * plugin start, more than the rest of the runtime's start-up. A one-shot plugin with a heap of
 * a few hundred KB needs neither limit, so this wrapper answers "no such file" for that one
 * path: the runtime then runs as it does where no cgroup is mounted. Every other fopen64 call of
 * the runtime goes to libc unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

FILE *__real_fopen64(const char *path, const char *mode);

FILE *__wrap_fopen64(const char *path, const char *mode)
{
    if (path != NULL && strcmp(path, "/proc/self/mountinfo") == 0)
    {
        errno = ENOENT;
        return NULL;
    }
    return __real_fopen64(path, mode);
}
