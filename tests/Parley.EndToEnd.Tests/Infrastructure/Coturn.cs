using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// A real coturn (<c>turnserver</c>) for interop tests: a generated configuration in a temporary directory
/// (TURN REST credentials with a shared secret, loopback peers allowed, UDP and TCP on one free port), started as a
/// child process, ready once it answers a STUN Binding request, killed by PID on dispose.
/// </summary>
internal sealed class Coturn : IAsyncDisposable
{
    private static readonly string[] s_paths = ["/usr/bin/turnserver", "/usr/local/bin/turnserver"];

    // Below Linux's ephemeral range (32768–60999) and the embedded server's relay range (49152–65535).
    private const int MinRelayPort = 30000;
    private const int MaxRelayPort = 30199;

    private readonly Process _process;
    private readonly string _directory;
    private readonly List<string> _output = [];

    private Coturn(Process process, string directory, int port, string secret)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Secret = secret;
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
    }

    /// <summary>The UDP and TCP listening port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The <c>static-auth-secret</c>: Parley mints credentials from it.</summary>
    public string Secret { get; }

    /// <summary>coturn's log so far, for a failed test.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_output)
                return [.. _output];
        }
    }

    public static async Task<Coturn> StartAsync()
    {
        var turnserver = s_paths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("coturn is not installed: apt-get install -y coturn");
        var directory = Directory.CreateTempSubdirectory("parley-coturn-").FullName;
        var port = FreePort();
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var config = Path.Combine(directory, "turnserver.conf");
        await File.WriteAllTextAsync(config, $"""
            listening-ip=127.0.0.1
            listening-port={port}
            relay-ip=127.0.0.1
            min-port={MinRelayPort}
            max-port={MaxRelayPort}
            allow-loopback-peers
            realm=parley.test
            fingerprint
            use-auth-secret
            static-auth-secret={secret}
            no-tls
            no-dtls
            no-cli
            pidfile={directory}/turnserver.pid
            log-file=stdout
            simple-log

            """);
        var process = Process.Start(new ProcessStartInfo(turnserver, ["-c", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        }) ?? throw new InvalidOperationException("turnserver did not start");
        var coturn = new Coturn(process, directory, port, secret);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await coturn.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(10));
        }
        catch
        {
            await coturn.DisposeAsync();
            throw;
        }
        return coturn;
    }

    public ValueTask DisposeAsync() => ChildProcess.StopAsync(_process, _directory);

    /// <summary>Sends STUN Binding requests over UDP until one is answered.</summary>
    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var server = new IPEndPoint(IPAddress.Loopback, Port);
        var request = new byte[20];
        BinaryPrimitives.WriteUInt16BigEndian(request, 0x0001); // Binding request, no attributes
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(4), 0x2112A442); // magic cookie
        RandomNumberGenerator.Fill(request.AsSpan(8, 12)); // transaction id
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"turnserver exited with {_process.ExitCode}: {string.Join(" | ", Output)}");
            await socket.SendAsync(request, server);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            try
            {
                var reply = await socket.ReceiveAsync(wait.Token);
                if (reply.Buffer.Length >= 20 && BinaryPrimitives.ReadUInt16BigEndian(reply.Buffer) == 0x0101)
                    return;
            }
            catch (OperationCanceledException)
            {
                // Not answering yet.
            }
            catch (SocketException)
            {
                // Port not bound yet (ICMP unreachable): try again.
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"turnserver did not answer STUN on 127.0.0.1:{Port} within {timeout.TotalSeconds:0} s: {string.Join(" | ", Output)}");
    }

    /// <summary>A port free for both UDP and TCP on 127.0.0.1.</summary>
    private static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            try
            {
                using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
                // Taken for TCP: another one.
            }
        }
    }

    private void Record(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Add(line);
    }
}
