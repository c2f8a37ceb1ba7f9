using System.Diagnostics;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>Stops a server the tests started (nginx, coturn) and removes its scratch folder.</summary>
internal static class ChildProcess
{
    /// <summary>Kills <paramref name="process"/> with its children (nginx's workers outlive a killed master) and deletes <paramref name="directory"/>.</summary>
    public static async ValueTask StopAsync(Process process, string directory)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        process.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up.
        }
    }
}
