namespace Podnet.Kernel.IntegrationTests;

public sealed class FileLockTests
{
    // Acquisitions that must succeed may wait: another test of this assembly forking a process
    // (ip, nft) at that moment holds a copy of the lock's file description until its exec, and
    // flock belongs to the description, so a lock just released can stay held for that long.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    [Fact]
    public void SharedHolders_DoNotBlockEachOther_ButExclusiveWaitsAndTimesOut()
    {
        var path = Path.Combine(Path.GetTempPath(), "pn-lock-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (FileLock.Acquire(path, exclusive: false, Settle))
            using (FileLock.Acquire(path, exclusive: false, TimeSpan.Zero))
            {
                Assert.Throws<TimeoutException>(() => FileLock.Acquire(path, exclusive: true, TimeSpan.FromMilliseconds(50)));
            }
            using (FileLock.Acquire(path, exclusive: true, Settle))
            {
                // flock locks belong to the open file description: a second open in this process conflicts too.
                var e = Assert.Throws<TimeoutException>(() => FileLock.Acquire(path, exclusive: false, TimeSpan.FromMilliseconds(30)));
                Assert.Contains(path, e.Message);
            }
            using (FileLock.Acquire(path, exclusive: true, Settle))
            {
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
