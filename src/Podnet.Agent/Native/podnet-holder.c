/*
 * podnet-holder: holds a pod's mount, UTS, IPC and PID namespaces (the pause container's role),
 * in place of `unshare --mount --uts --ipc --pid --fork --kill-child --mount-proc --propagation
 * slave -- sh -c 'SETUP; while :; do sleep … & wait $!; done'`, which kept three programs
 * (unshare, sh, sleep) of 1.7-1.8 MiB resident each beside every pod. This one is a static
 * binary of a few hundred KB resident, twice per pod (the waiting parent and PID 1).
 *
 *   podnet-holder -- COMMAND…
 *
 * Same steps as that unshare command line: new mount, UTS, IPC and PID namespaces; every mount
 * made a slave of the host's (host mounts propagate in, nothing propagates out); fork; the child
 * is PID 1 of the new PID namespace, dies with its parent (SIGKILL), and mounts a /proc of its
 * own. PID 1 runs COMMAND (the pod's setup: tmpfs on /run, the bind mounts, the hostname, the
 * ready file) as its child and waits for it: when it fails, PID 1 exits with its status (the
 * agent reports the pod's holder as exited); when it succeeds, PID 1 stays, reaping every
 * orphan of the pod, until it is killed. The parent waits for PID 1 and exits with its status,
 * or dies of its signal, as unshare --fork does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Without stdio, which would double the binary's resident pages. */
static void say(const char *a, const char *b, const char *c)
{
    const char *parts[] = {"podnet-holder: ", a, b, c, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    {
        if (write(2, parts[i], strlen(parts[i])) < 0)
            return;
    }
}

static void fail(const char *what)
{
    say(what, ": ", strerror(errno));
    _exit(125);
}

/* The exit status the way a shell reports it (128+N for signal N). */
static int status_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_pid1(char **command)
{
    sigset_t chld, none;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&none);
    /* Blocked, then waited for with sigsuspend: a child ending between the reap and the wait
       is not missed (main has set a handler, without which SIGCHLD would not end sigsuspend). */
    sigprocmask(SIG_BLOCK, &chld, NULL);
    if (mount("none", "/proc", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        fail("cannot make /proc private");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) != 0)
        fail("cannot mount /proc");
    pid_t setup = fork();
    if (setup < 0)
        fail("cannot fork");
    if (setup == 0)
    {
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(command[0], command);
        say("cannot run ", command[0], errno == ENOENT ? ": no such file" : ": cannot execute");
        _exit(127);
    }
    for (;;)
    {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        {
            if (pid == setup && status_of(status) != 0)
                return status_of(status);
        }
        sigsuspend(&none);
    }
}

static void on_chld(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--") != 0)
    {
        say("usage: podnet-holder -- COMMAND…", "", "");
        return 2;
    }
    if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) != 0)
        fail("cannot unshare the namespaces");
    if (mount("none", "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
        fail("cannot make / a slave");
    /* As unshare: the parent holds SIGINT and SIGTERM (only SIGKILL ends it before PID 1). */
    sigset_t held, old;
    sigemptyset(&held);
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGTERM);
    sigprocmask(SIG_BLOCK, &held, &old);
    pid_t child = fork();
    if (child < 0)
        fail("cannot fork");
    if (child == 0)
    {
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
            fail("cannot ask to die with the parent");
        struct sigaction action = {0};
        action.sa_handler = on_chld;
        sigaction(SIGCHLD, &action, NULL);
        return run_pid1(argv + 2);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
    {
        if (errno != EINTR)
            fail("cannot wait for the pod's PID 1");
    }
    if (WIFSIGNALED(status))
    {
        signal(WTERMSIG(status), SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        kill(getpid(), WTERMSIG(status));
    }
    return status_of(status);
}
