using System.Text.Json;
using Parley.Bench.TurnLoad;

// Build outside, run inside a loopback-only namespace (see README.md):
//   dotnet build -c Release bench/Parley.Bench.TurnLoad
//   unshare --net -- sh -c 'ip link set lo up && bench/Parley.Bench.TurnLoad/run-vs-coturn.sh'
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(LoadOptions.Usage);
    return args.Length == 0 ? 2 : 0;
}

switch (args[0])
{
    case "run":
        return await RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
    case "probe":
        return await Probe.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
    case "compare" when args.Length == 3:
        return Reports.Compare(args[1], args[2], Console.Out);
    case "report" when args.Length == 2:
        return Reports.Table(args[1], Console.Out);
    default:
        Console.Error.WriteLine(LoadOptions.Usage);
        return 2;
}

static async Task<int> RunAsync(string[] args)
{
    const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    if (!LoadOptions.TryParse(args, out LoadOptions options, out List<string> errors))
    {
        foreach (string error in errors)
        {
            Console.Error.WriteLine($"error: {error}");
        }

        return 2;
    }

    // Run socket completions on the epoll thread instead of queueing them to the thread pool: the receive loops' work
    // per packet is tiny, so the hop would cost more than the work (on this 2-core machine it halved the tool's
    // throughput). Safe because nothing there blocks: UDP sends do not, and over TCP the unthrottled window (at most
    // 2048 × 1404 bytes) fits the 4 MiB send buffer, while paced sends come from the pacer thread.
    if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
    {
        Environment.SetEnvironmentVariable(InlineCompletions, "1");
    }

    // A hard bound on the whole run: setup, warm-up, window, drain and teardown.
    using CancellationTokenSource timeout = new(options.Warmup + options.Duration + TimeSpan.FromSeconds(120));
    try
    {
        LoadResult result = await LoadRun.RunAsync(options, Console.Error, timeout.Token).ConfigureAwait(false);
        string json = JsonSerializer.Serialize(result, ResultJsonContext.Default.LoadResult);
        if (options.JsonOut is { } path)
        {
            await File.AppendAllTextAsync(path, json + "\n").ConfigureAwait(false);
        }

        if (options.Json)
        {
            Console.WriteLine(json);
        }
        else
        {
            Reports.WriteText(result, Console.Out);
        }

        return result.SetupErrors == 0 ? 0 : 1;
    }
    catch (TurnErrorException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("error: the run did not finish in time.");
        return 1;
    }
}
