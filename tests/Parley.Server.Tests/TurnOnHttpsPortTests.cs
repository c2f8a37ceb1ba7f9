using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Parley.Stun;
using Parley.Turn;
using Parley.Turn.FunctionalTests;
using Parley.Turn.Hosting;
using Parley.Turn.Tests;

namespace Parley.Server.Tests;

/// <summary>
/// <c>Turn:ShareHttpsPort</c>: TURN over TLS on the real host's HTTPS port (Kestrel's handshake, the web certificate),
/// beside HTTP/1.1, HTTP/2 and WebSockets on the same port, with real TLS clients on loopback.
/// </summary>
public sealed class TurnOnHttpsPortTests
{
    [Fact]
    public async Task A_tls_turn_client_on_the_https_port_allocates_with_the_welcome_credentials_and_relays_both_ways()
    {
        await using var server = await SharedPortHost.StartAsync(share: true, "--Turn:AllowedPeerRanges:0=127.0.0.0/8");
        await using var ws = await WsClient.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Port}/ws"));
        var welcome = await ws.HelloAsync();

        // The welcome offers the HTTPS port, with the host the browser used (the certificate's name) and minted credentials.
        var turnEntry = welcome.GetProperty("iceServers").EnumerateArray().Single(s => s.TryGetProperty("username", out _));
        Assert.Contains($"turns:127.0.0.1:{server.Port}?transport=tcp", turnEntry.GetProperty("urls").EnumerateArray().Select(u => u.GetString()));

        await using var turn = await TurnClientForHost.TlsAsync(server.Port, server.Thumbprint, welcome);
        using var peer = new PeerSocket();
        var allocate = await turn.AllocateAsync();
        Assert.Equal(StunClass.SuccessResponse, allocate.Class);
        Assert.Equal(turn.LocalAddress, allocate.XorMapped);
        var relayed = allocate.Relayed.Single();
        Assert.Equal(TurnTransportProtocol.Tls, server.Services.GetRequiredService<TurnServer>().SnapshotAllocations().Single().Protocol);

        // Send indication out, Data indication back.
        Assert.Equal(StunClass.SuccessResponse, (await turn.RequestAsync(c => TurnMessages.CreatePermission(c, peer.Address))).Class);
        await turn.SendAsync(TurnMessages.Send(peer.Address, [1, 2, 3]));
        Assert.Equal([1, 2, 3], (await peer.ReceiveAsync())?.Data);
        await peer.SendAsync([4, 5, 6], relayed);
        var data = await turn.ReceiveAsync();
        Assert.NotNull(data);
        Assert.Equal([4, 5, 6], TurnMessages.ReadDataIndication(data).Data);

        // ChannelData both ways (padded to four bytes on a stream).
        Assert.Equal(StunClass.SuccessResponse, (await turn.RequestAsync(c => TurnMessages.ChannelBind(c, 0x4001, peer.Address))).Class);
        await turn.SendAsync(TurnMessages.ChannelDataMessage(0x4001, [7, 8, 9], pad: true));
        Assert.Equal([7, 8, 9], (await peer.ReceiveAsync())?.Data);
        await peer.SendAsync([10, 11], relayed);
        var channelData = await turn.ReceiveAsync();
        Assert.NotNull(channelData);
        var (channel, payload) = TurnMessages.ReadChannelData(channelData);
        Assert.Equal(0x4001, channel);
        Assert.Equal([10, 11], payload);

        // Closing the connection deletes the allocation, as on the TURN server's own TLS port.
        await turn.DisposeAsync();
        await HttpsHost.WaitUntilAsync(() => server.Services.GetRequiredService<TurnServer>().SnapshotAllocations().Count == 0, "the allocation deleted");
    }

    [Fact]
    public async Task A_client_offering_alpn_stun_turn_gets_it_and_is_served_turn()
    {
        await using var server = await SharedPortHost.StartAsync(share: true);
        await using var ws = await WsClient.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Port}/ws"));
        var welcome = await ws.HelloAsync();

        await using var turn = await TurnClientForHost.TlsAsync(server.Port, server.Thumbprint, welcome,
            [new SslApplicationProtocol("stun.turn"), SslApplicationProtocol.Http11]);

        Assert.Equal("stun.turn", turn.NegotiatedApplicationProtocol.ToString());
        Assert.Equal(StunClass.SuccessResponse, (await turn.ExchangeAsync(TurnMessages.Binding()))?.Class);
        Assert.Equal(StunClass.SuccessResponse, (await turn.AllocateAsync()).Class);
    }

    [Fact]
    public async Task Https_over_http11_and_http2_websockets_and_clients_without_alpn_still_work_on_the_shared_port()
    {
        await using var server = await SharedPortHost.StartAsync(share: true);
        using var http = HttpsHost.Client();

        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Https, "/healthz"))
            {
                Version = version,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
        }

        // An HTTP client that offers no ALPN is told apart by its first bytes.
        await using (var tls = await RawTlsAsync(server.Port))
        {
            await tls.WriteAsync("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray());
            Assert.StartsWith("HTTP/1.1 200", await ReadToEndAsync(tls), StringComparison.Ordinal);
        }

        await using var ws = await WsClient.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Port}/ws"));
        Assert.False(string.IsNullOrEmpty((await ws.HelloAsync()).GetProperty("peerId").GetString()));
    }

    [Fact]
    public async Task Garbage_after_the_handshake_gets_the_same_400_as_without_sharing_and_the_server_goes_on()
    {
        // First byte with two zero bits (looks like STUN until byte 4), then one that is plainly not HTTP.
        byte[][] garbage =
        [
            [0x00, 0x01, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x0D, 0x0A, 0x0D, 0x0A],
            "HELLO THERE\r\n\r\n"u8.ToArray(),
        ];
        var answers = new Dictionary<bool, List<string>>();
        foreach (var share in new[] { false, true })
        {
            await using var server = await SharedPortHost.StartAsync(share);
            answers[share] = [];
            foreach (var bytes in garbage)
            {
                await using var tls = await RawTlsAsync(server.Port);
                await tls.WriteAsync(bytes);
                answers[share].Add(StatusLine(await ReadToEndAsync(tls)));
            }

            using var http = HttpsHost.Client();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Https, "/healthz"))).StatusCode);
        }

        Assert.All(answers[false], line => Assert.StartsWith("HTTP/1.1 400", line, StringComparison.Ordinal));
        Assert.Equal(answers[false], answers[true]);
    }

    [Fact]
    public async Task First_bytes_split_across_tls_records_are_still_told_apart()
    {
        await using var server = await SharedPortHost.StartAsync(share: true);

        // A Binding request whose first three bytes come alone: still STUN.
        await using (var tls = await RawTlsAsync(server.Port))
        {
            byte[] binding = TurnMessages.Binding();
            await tls.WriteAsync(binding.AsMemory(0, 3));
            await tls.FlushAsync();
            await Task.Delay(200);
            await tls.WriteAsync(binding.AsMemory(3));
            byte[] response = await ReadFrameAsync(tls);
            Assert.True(StunHeader.IsStun(response));
            Assert.Equal(0x0101, (response[0] << 8) | response[1]); // Binding success response
        }

        // One zero byte alone, then HTTP-ish garbage: HTTP still reads it all (400), nothing was lost.
        await using (var tls = await RawTlsAsync(server.Port))
        {
            await tls.WriteAsync(new byte[] { 0x00 });
            await tls.FlushAsync();
            await Task.Delay(200);
            await tls.WriteAsync("BCDEFGH / HTTP/1.1\r\n\r\n"u8.ToArray());
            Assert.StartsWith("HTTP/1.1 400", await ReadToEndAsync(tls), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_client_that_sends_nothing_after_the_handshake_is_closed_after_kestrels_keep_alive_timeout()
    {
        await using var server = await SharedPortHost.StartAsync(share: true,
            configure: builder => builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(2)));
        await using var tls = await RawTlsAsync(server.Port);
        var clock = Stopwatch.StartNew();

        var read = await ReadToEndAsync(tls, TimeSpan.FromSeconds(20));

        Assert.Equal("", read);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Turn_limits_apply_on_the_shared_port_connections_and_failed_authentication()
    {
        await using var server = await SharedPortHost.StartAsync(share: true, "--Turn:MaxStreamConnections=1", "--Turn:FailedAuthLimit=2");
        await using var ws = await WsClient.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Port}/ws"));
        var welcome = await ws.HelloAsync();

        // One TURN connection at a time on this port: the second is closed without an answer.
        await using (var first = await TurnClientForHost.TlsAsync(server.Port, server.Thumbprint, welcome))
        {
            Assert.Equal(StunClass.SuccessResponse, (await first.AllocateAsync()).Class);
            await using var second = await TurnClientForHost.TlsAsync(server.Port, server.Thumbprint, welcome);
            Assert.Null(await second.ExchangeAsync(TurnMessages.Binding(), TimeSpan.FromSeconds(2)));
            Assert.Equal(1, server.Services.GetRequiredService<TurnStreamHandler>().OpenConnections);
        }

        // Wrong passwords: 401 until the limit, then silence for that address.
        await HttpsHost.WaitUntilAsync(() => server.Services.GetRequiredService<TurnStreamHandler>().OpenConnections == 0, "the first connection gone");
        await using var guesser = await TurnClientForHost.TlsAsync(server.Port, server.Thumbprint, welcome);
        var wrong = new ClientCredentials(TurnClientForHost.CredentialsOf(welcome).Username, "wrong", "parley");
        var challenge = await guesser.ExchangeAsync(TurnMessages.Allocate(null));
        Assert.Equal(401, challenge?.ErrorCode);
        wrong.Nonce = challenge!.Nonce!;
        Assert.Equal(401, (await guesser.ExchangeAsync(TurnMessages.Allocate(wrong)))?.ErrorCode);
        Assert.Equal(401, (await guesser.ExchangeAsync(TurnMessages.Allocate(wrong)))?.ErrorCode);
        Assert.Null(await guesser.ExchangeAsync(TurnMessages.Allocate(wrong), TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task With_the_switch_off_stun_on_the_https_port_is_not_served_and_not_advertised()
    {
        await using var server = await SharedPortHost.StartAsync(share: false);
        await using var ws = await WsClient.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Port}/ws"));
        var welcome = await ws.HelloAsync();
        var urls = welcome.GetProperty("iceServers").EnumerateArray().SelectMany(s => s.GetProperty("urls").EnumerateArray()).Select(u => u.GetString());
        Assert.DoesNotContain(urls, u => u!.StartsWith("turns:", StringComparison.Ordinal));

        await using var tls = await RawTlsAsync(server.Port);
        await tls.WriteAsync(TurnMessages.Binding());

        Assert.StartsWith("HTTP/1.1 400", await ReadToEndAsync(tls), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_https_endpoint_from_the_kestrel_section_shares_its_port_too()
    {
        using var files = new TestCertificates();
        var certificate = TestCertificates.Create("kestrel-endpoint");
        files.WritePem(certificate);
        await using var host = await HttpsHost.StartAsync("",
            "--Kestrel:Endpoints:Web:Url=https://127.0.0.1:0", $"--Https:CertificatePath={files.PathOf("cert.pem")}",
            $"--Https:KeyPath={files.PathOf("key.pem")}", "--Turn:ShareHttpsPort=true", "--Drain:TurnGrace=00:00:00");

        await using var turn = await TurnTestClient.Tcp(new IPEndPoint(IPAddress.Loopback, host.Https!.Port), certificate.Thumbprint);
        Assert.Equal(StunClass.SuccessResponse, (await turn.ExchangeAsync(TurnMessages.Binding()))?.Class);
        using var http = HttpsHost.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(host.Https, "/healthz"))).StatusCode);
    }

    [Fact]
    public async Task The_switch_without_https_in_this_process_stops_startup_with_a_sentence()
    {
        var problems = await HttpsTests.ProblemsAsync("http://127.0.0.1:0", "--Turn:ShareHttpsPort=true");

        Assert.Contains("Turn:ShareHttpsPort is on but Parley does not serve HTTPS itself", problems, StringComparison.Ordinal);
    }

    /// <summary>A TLS connection offering no ALPN (as Chromium's TURN client), trusting any certificate.</summary>
    private static async Task<SslStream> RawTlsAsync(int port)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) => certificate is not null);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, timeout.Token);
        return tls;
    }

    /// <summary>Everything until the server closes (or <paramref name="limit"/>, 10 s by default), as Latin-1 text.</summary>
    private static async Task<string> ReadToEndAsync(SslStream tls, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await tls.ReadAsync(buffer, timeout.Token)) > 0)
                received.Write(buffer, 0, read);
        }
        catch (IOException)
        {
            // Reset after the answer: what came is the answer.
        }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    private static async Task<byte[]> ReadFrameAsync(SslStream tls)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[2048];
        int filled = 0;
        while (true)
        {
            var frame = StreamFramer.TryGetFrame(buffer.AsSpan(0, filled), out _);
            if (frame.IsComplete)
                return buffer[..frame.Consumed];
            Assert.NotEqual(ReadStatus.Invalid, frame.Status);
            var read = await tls.ReadAsync(buffer.AsMemory(filled), timeout.Token);
            Assert.NotEqual(0, read);
            filled += read;
        }
    }

    private static string StatusLine(string response) => response.Split("\r\n", 2)[0];

    /// <summary>The real host on https://127.0.0.1:0 with a test certificate, sharing its port with TURN or not.</summary>
    private sealed class SharedPortHost : IAsyncDisposable
    {
        private readonly TestCertificates _files;
        private readonly HttpsHost _host;

        private SharedPortHost(TestCertificates files, HttpsHost host, string thumbprint)
        {
            _files = files;
            _host = host;
            Thumbprint = thumbprint;
        }

        public Uri Https => _host.Https!;

        public int Port => _host.Https!.Port;

        public string Thumbprint { get; }

        public IServiceProvider Services => _host.App.Services;

        public static Task<SharedPortHost> StartAsync(bool share, params string[] settings) => StartAsync(share, null, settings);

        public static async Task<SharedPortHost> StartAsync(bool share, Action<WebApplicationBuilder>? configure, params string[] settings)
        {
            var files = new TestCertificates();
            var certificate = TestCertificates.Create("shared-port");
            files.WritePem(certificate);
            var host = await HttpsHost.StartAsync("https://127.0.0.1:0", configure,
                [$"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("key.pem")}",
                 $"--Turn:ShareHttpsPort={share}", "--Drain:TurnGrace=00:00:00", .. settings]);
            return new SharedPortHost(files, host, certificate.Thumbprint);
        }

        public async ValueTask DisposeAsync()
        {
            await _host.DisposeAsync();
            _files.Dispose();
        }
    }
}
