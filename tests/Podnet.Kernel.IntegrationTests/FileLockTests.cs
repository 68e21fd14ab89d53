namespace Podnet.Kernel.IntegrationTests;

public sealed class FileLockTests
{
    [Fact]
    public void SharedHolders_DoNotBlockEachOther_ButExclusiveWaitsAndTimesOut()
    {
        var path = Path.Combine(Path.GetTempPath(), "pn-lock-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (FileLock.Acquire(path, exclusive: false, TimeSpan.Zero))
            using (FileLock.Acquire(path, exclusive: false, TimeSpan.Zero))
            {
                Assert.Throws<TimeoutException>(() => FileLock.Acquire(path, exclusive: true, TimeSpan.FromMilliseconds(50)));
            }
            using (FileLock.Acquire(path, exclusive: true, TimeSpan.Zero))
            {
                // flock locks belong to the open file description: a second open in this process conflicts too.
                var e = Assert.Throws<TimeoutException>(() => FileLock.Acquire(path, exclusive: false, TimeSpan.FromMilliseconds(30)));
                Assert.Contains(path, e.Message);
            }
            using (FileLock.Acquire(path, exclusive: true, TimeSpan.Zero))
            {
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
