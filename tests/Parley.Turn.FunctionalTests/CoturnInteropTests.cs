using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Stun;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>
/// The same TURN REST credentials and the same test client against coturn (<c>turnserver</c>, started here and killed by
/// PID): what <see cref="TurnCredentials"/> mints is what coturn's use-auth-secret accepts, so the two can run side by side.
/// </summary>
public sealed class CoturnInteropTests
{
    private static readonly string[] s_turnserverPaths = ["/usr/bin/turnserver", "/usr/local/bin/turnserver"];

    [Fact]
    public async Task Coturn_accepts_parley_rest_credentials_and_relays_for_the_test_client()
    {
        string? turnserver = s_turnserverPaths.FirstOrDefault(File.Exists);
        if (turnserver is null)
        {
            return; // coturn not installed: nothing to compare with
        }

        string directory = Directory.CreateTempSubdirectory("parley-coturn-").FullName;
        int port = FreeUdpPort();
        string config = Path.Combine(directory, "turnserver.conf");
        await File.WriteAllTextAsync(config, $"""
            listening-ip=127.0.0.1
            listening-port={port}
            relay-ip=127.0.0.1
            min-port=41000
            max-port=41099
            allow-loopback-peers
            realm={TurnHost.Realm}
            fingerprint
            use-auth-secret
            static-auth-secret={TurnHost.Secret}
            no-tls
            no-dtls
            no-cli
            pidfile={directory}/turnserver.pid
            log-file=stdout
            simple-log
            """);
        using var process = Process.Start(new ProcessStartInfo(turnserver, ["-c", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var server = new IPEndPoint(IPAddress.Loopback, port);
            await using TurnTestClient client = await TurnTestClient.Udp(server);

            // Bounded wait until coturn answers a Binding request.
            TurnResponse? binding = null;
            DateTime deadline = DateTime.UtcNow.AddSeconds(10);
            while (binding is null && DateTime.UtcNow < deadline && !process.HasExited)
            {
                binding = await client.ExchangeAsync(TurnMessages.Binding(), TimeSpan.FromMilliseconds(200));
            }

            Assert.NotNull(binding);
            client.Credentials = TurnHost.Credentials();
            TurnResponse allocate = await client.AllocateAsync();
            Assert.Equal(StunClass.SuccessResponse, allocate.Class);
            TransportAddress relayed = Assert.Single(allocate.Relayed);

            using var peer = new PeerSocket();
            Assert.Equal(StunClass.SuccessResponse, (await client.RequestAsync(c => TurnMessages.ChannelBind(c, 0x4000, peer.Address))).Class);
            await client.SendAsync(TurnMessages.ChannelDataMessage(0x4000, [1, 2, 3]));
            var received = await peer.ReceiveAsync();
            Assert.Equal(relayed, received?.From);

            // And a wrong password is refused by coturn just as by Parley.
            await using TurnTestClient wrong = await TurnTestClient.Udp(server);
            wrong.Credentials = TurnHost.Credentials() with { Password = "wrong" };
            Assert.Equal(401, (await wrong.AllocateAsync()).ErrorCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
