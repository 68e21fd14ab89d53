namespace Podnet.Cni.Apply;

/// <summary>
/// Undo steps of an ADD, run in reverse order when a later step fails. Each undo is
/// best-effort: its failure is logged to stderr and the rest still run, so one stuck step
/// does not leak everything after it.
/// </summary>
internal sealed class Rollback
{
    private readonly Stack<(string What, Action Undo)> _steps = new();

    public void Push(string what, Action undo) => _steps.Push((what, undo));

    public int Count => _steps.Count;

    public void Run()
    {
        while (_steps.TryPop(out var step))
        {
            try
            {
                step.Undo();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"podnet-cni: rollback of '{step.What}' failed: {e.Message}");
            }
        }
    }

    /// <summary>The ADD succeeded: forget the undo steps.</summary>
    public void Commit() => _steps.Clear();
}
