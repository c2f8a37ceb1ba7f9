using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests;

/// <summary>
/// Parley as a real child process (the published executable, or <c>dotnet Parley.Server.dll</c>): its output kept,
/// its URL read from the "Parley is running" line, stopped with SIGTERM like systemd does, killed if it hangs.
/// </summary>
public sealed partial class ParleyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ParleyProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Everything the process wrote to stdout and stderr so far, line by line.</summary>
    public IReadOnlyCollection<string> Output => _output;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <paramref name="fileName"/> and waits (bounded) until it prints the URL to open. With
    /// <paramref name="environment"/> the child gets exactly that environment and nothing inherited.
    /// </summary>
    public static async Task<ParleyProcess> StartAsync(
        string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        if (environment is not null)
        {
            start.Environment.Clear();
            foreach (var (key, value) in environment)
                start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var child = new ParleyProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var exited = process.WaitForExitAsync(limit.Token);
        var first = await Task.WhenAny(child._url.Task, exited);
        if (first != child._url.Task || !child._url.Task.IsCompletedSuccessfully)
        {
            await child.DisposeAsync();
            throw new InvalidOperationException($"{fileName} did not start (exited: {process.HasExited}). Output:\n{string.Join('\n', child.Output)}");
        }
        child.BaseUri = child._url.Task.Result;
        return child;
    }

    /// <summary>Sends SIGTERM, as <c>systemctl stop</c> and <c>kill</c> do.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "kill -TERM \"$0\"", Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit(5_000);
    }

    /// <summary>The exit code, once the process ends by itself within <paramref name="bound"/>; throws if it does not.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan bound)
    {
        using var limit = new CancellationTokenSource(bound);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Parley (pid {Id}) did not exit within {bound.TotalSeconds:0} s. Output:\n{string.Join('\n', Output)}");
        }
        return _process.ExitCode;
    }

    /// <summary>The files the process has mapped (its runtime, libraries), from /proc.</summary>
    public string[] MappedFiles() =>
        [.. File.ReadAllLines($"/proc/{Id}/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length == 6).Select(f => f[5].Trim()).Distinct()];

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(limit.Token);
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        if (RunningLine().Match(line) is { Success: true } match)
            _url.TrySetResult(new Uri(match.Groups[1].Value));
    }

    [GeneratedRegex(@"Parley is running: open (\S+/) in your browser")]
    private static partial Regex RunningLine();
}
