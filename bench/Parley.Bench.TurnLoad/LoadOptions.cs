using System.Globalization;
using System.Net;

namespace Parley.Bench.TurnLoad;

/// <summary>How the client reaches the TURN server. The relayed leg (server to echo peer) is always UDP.</summary>
internal enum ClientTransport
{
    Udp,
    Tcp,
}

/// <summary>
/// One load scenario, from the command line. <see cref="Parse"/> reports every problem at once, each with what to
/// pass instead, and never throws for bad input.
/// </summary>
internal sealed record LoadOptions
{
    /// <summary>The TURN server, <c>udp://127.0.0.1:3478</c> or <c>tcp://127.0.0.1:3478</c>.</summary>
    public IPEndPoint Server { get; init; } = new(IPAddress.Loopback, 3478);

    /// <summary>UDP (default) or TCP between the client and the server.</summary>
    public ClientTransport Transport { get; init; } = ClientTransport.Udp;

    /// <summary>The shared secret of coturn's <c>static-auth-secret</c> (TURN REST credentials).</summary>
    public string Secret { get; init; } = "";

    /// <summary>The realm used for the long-term key if the server's 401 carries none; the server's REALM wins.</summary>
    public string Realm { get; init; } = "parley.test";

    /// <summary>Concurrent allocations, each with its own client socket, channel and echo flow.</summary>
    public int Allocations { get; init; } = 1;

    /// <summary>The measured time, after the warm-up.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Traffic that flows but is not counted, so caches, JIT and socket buffers settle.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Packets per second per allocation; 0 is unthrottled (closed loop, <see cref="Window"/> in flight).</summary>
    public int Rate { get; init; } = 50;

    /// <summary>ChannelData application-data bytes per packet (at least 16: sequence number and send time).</summary>
    public int Size { get; init; } = 1000;

    /// <summary>Unthrottled mode: packets each allocation keeps in flight.</summary>
    public int Window { get; init; } = 32;

    /// <summary>Requested allocation lifetime; refreshes are sent at half the granted lifetime (and at most every 120 s).</summary>
    public TimeSpan? Lifetime { get; init; }

    /// <summary>Refresh this often instead of at half the granted lifetime (to exercise refreshes in a short run).</summary>
    public TimeSpan? RefreshEvery { get; init; }

    /// <summary>The TURN server's process id, for CPU time and RSS from /proc; null to skip.</summary>
    public int? ServerPid { get; init; }

    /// <summary>A name for the server in reports and JSON (coturn, parley).</summary>
    public string Label { get; init; } = "server";

    /// <summary>
    /// No TURN server: each client sends its ChannelData straight to the echo peer, which sends it back. Measures the
    /// tool's own ceiling and CPU cost per round trip on the same code path (see README.md).
    /// </summary>
    public bool SelfTest { get; init; }

    /// <summary>Print one JSON object on stdout instead of the text report.</summary>
    public bool Json { get; init; }

    /// <summary>Also append the JSON object as one line to this file (for <c>compare</c>).</summary>
    public string? JsonOut { get; init; }

    /// <summary>Allocations set up at the same time.</summary>
    public int SetupConcurrency { get; init; } = 16;

    public const string Usage = """
        usage: Parley.Bench.TurnLoad run --server udp://127.0.0.1:3478 --secret S [options]
               Parley.Bench.TurnLoad probe --server udp://127.0.0.1:3478 [--timeout 5s]
               Parley.Bench.TurnLoad compare BASELINE.jsonl CANDIDATE.jsonl
               Parley.Bench.TurnLoad report RESULTS.jsonl

        run options:
          --server udp://HOST:PORT | tcp://HOST:PORT   TURN server (client leg; the relayed leg is UDP)
          --secret S            static-auth-secret (TURN REST credentials)
          --realm R             realm if the server's 401 has none (default parley.test)
          --allocations N       concurrent allocations (default 1)
          --duration 10s        measured time (s, ms, m suffixes)
          --warmup 1s           uncounted traffic before the measurement
          --rate N|max          packets/s per allocation; max (or 0) = unthrottled closed loop (default 50)
          --window N            unthrottled: packets in flight per allocation, 1-2048 (default 32)
          --size N              ChannelData payload bytes, 16-1400 (default 1000)
          --lifetime 600s       requested allocation lifetime (refresh at half of what is granted)
          --refresh-every 5s    refresh this often instead (exercises Refresh/CreatePermission/ChannelBind)
          --server-pid PID      TURN server process: CPU time and RSS from /proc
          --label NAME          server name in reports (default server)
          --self-test           no server: clients and echo peer talk directly (the tool's own ceiling)
          --json                print the result as one JSON object
          --json-out FILE       append the result as a JSON line to FILE
          --setup-concurrency N allocations set up at once (default 16)
        """;

    public static bool TryParse(ReadOnlySpan<string> args, out LoadOptions options, out List<string> errors)
    {
        errors = [];
        options = new LoadOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "--json" or "--self-test")
            {
                options = name == "--json" ? options with { Json = true } : options with { SelfTest = true, Label = "self-test" };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                errors.Add($"{name} needs a value.");
                break;
            }

            string value = args[++i];
            switch (name)
            {
                case "--server":
                    if (TryParseServer(value, out IPEndPoint? server, out ClientTransport transport))
                    {
                        options = options with { Server = server, Transport = transport };
                    }
                    else
                    {
                        errors.Add($"--server {value}: expected udp://IP:PORT or tcp://IP:PORT, e.g. udp://127.0.0.1:3478.");
                    }

                    break;
                case "--secret":
                    options = options with { Secret = value };
                    break;
                case "--realm":
                    options = options with { Realm = value };
                    break;
                case "--allocations":
                    options = options with { Allocations = ParseInt(name, value, 1, 10_000, errors) };
                    break;
                case "--duration":
                    options = options with { Duration = ParseDuration(name, value, errors) };
                    break;
                case "--warmup":
                    options = options with { Warmup = ParseDuration(name, value, errors, allowZero: true) };
                    break;
                case "--rate":
                    options = options with { Rate = value is "max" or "unthrottled" ? 0 : ParseInt(name, value, 0, 1_000_000, errors) };
                    break;
                case "--window":
                    options = options with { Window = ParseInt(name, value, 1, 2048, errors) };
                    break;
                case "--size":
                    options = options with { Size = ParseInt(name, value, Payload.MinSize, 1400, errors) };
                    break;
                case "--lifetime":
                    options = options with { Lifetime = ParseDuration(name, value, errors) };
                    break;
                case "--refresh-every":
                    options = options with { RefreshEvery = ParseDuration(name, value, errors) };
                    break;
                case "--server-pid":
                    options = options with { ServerPid = ParseInt(name, value, 1, int.MaxValue, errors) };
                    break;
                case "--label":
                    options = options with { Label = value };
                    break;
                case "--json-out":
                    options = options with { JsonOut = value };
                    break;
                case "--setup-concurrency":
                    options = options with { SetupConcurrency = ParseInt(name, value, 1, 1000, errors) };
                    break;
                default:
                    errors.Add($"unknown option {name}; see --help.");
                    break;
            }
        }

        if (options.Secret.Length == 0 && !options.SelfTest)
        {
            errors.Add("--secret is required: the TURN server's static-auth-secret.");
        }

        if (options.SelfTest)
        {
            options = options with { Transport = ClientTransport.Udp }; // the echo peer is a UDP socket
        }

        if (options.Allocations * 3 > 18_000)
        {
            errors.Add("--allocations: at most 6000 (a process may hold 20,000 open files).");
        }

        return errors.Count == 0;
    }

    public static bool TryParseServer(string value, out IPEndPoint server, out ClientTransport transport)
    {
        server = null!;
        transport = ClientTransport.Udp;
        string rest;
        if (value.StartsWith("udp://", StringComparison.OrdinalIgnoreCase))
        {
            rest = value[6..];
        }
        else if (value.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            rest = value[6..];
            transport = ClientTransport.Tcp;
        }
        else
        {
            return false;
        }

        return IPEndPoint.TryParse(rest, out server!) && server.Port != 0;
    }

    public static TimeSpan ParseDuration(string name, string value, List<string> errors, bool allowZero = false)
    {
        (string number, double scale) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.Ordinal) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1.0),
            _ when value.EndsWith('m') => (value[..^1], 60.0),
            _ => (value, 1.0),
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount)
            && (amount > 0 || (allowZero && amount == 0)) && amount * scale <= 24 * 3600)
        {
            return TimeSpan.FromSeconds(amount * scale);
        }

        errors.Add($"{name} {value}: expected a duration such as 10s, 500ms or 2m{(allowZero ? " (0 allowed)" : "")}.");
        return TimeSpan.FromSeconds(1);
    }

    private static int ParseInt(string name, string value, int min, int max, List<string> errors)
    {
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result) && result >= min && result <= max)
        {
            return result;
        }

        errors.Add($"{name} {value}: expected a whole number from {min} to {max}.");
        return min;
    }
}
