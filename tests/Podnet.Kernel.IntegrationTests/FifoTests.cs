namespace Podnet.Kernel.IntegrationTests;

public sealed class FifoTests
{
    [Fact]
    public async Task Writer_IsRefusedWithoutAReader_AndReaderSeesEachWriterThenEnd()
    {
        var path = Path.Combine(Path.GetTempPath(), "pn-fifo-" + Guid.NewGuid().ToString("N"));
        try
        {
            Fifo.Create(path);
            Fifo.Create(path); // one already there is kept
            Assert.Null(Fifo.TryOpenWriter(path));

            var reader = Task.Run(() =>
            {
                using var pipe = Fifo.OpenReader(path);
                using var text = new StreamReader(pipe);
                return text.ReadToEnd();
            });
            FileStream? writer = null;
            // The reader's open waits for a writer: retry until the reader has the pipe open.
            for (var i = 0; i < 1000 && writer is null; i++)
            {
                writer = Fifo.TryOpenWriter(path);
                if (writer is null)
                {
                    await Task.Delay(10);
                }
            }
            Assert.NotNull(writer);
            await using (writer)
            {
                await writer.WriteAsync("hello\n"u8.ToArray());
            }
            Assert.Equal("hello\n", await reader.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
