using System.Net;

namespace Parley.Server.Tests;

/// <summary>Behind a reverse proxy: forwarded headers believed only from configured proxies; a path base.</summary>
public sealed class ProxyTests
{
    [Theory]
    [InlineData(new string[0], "127.0.0.1", "http")]
    [InlineData(new[] { "--Proxy:KnownProxies:0=192.0.2.1" }, "127.0.0.1", "http")]
    [InlineData(new[] { "--Proxy:KnownNetworks:0=10.0.0.0/8" }, "127.0.0.1", "http")]
    [InlineData(new[] { "--Proxy:KnownProxies:0=127.0.0.1" }, "203.0.113.7", "https")]
    [InlineData(new[] { "--Proxy:KnownNetworks:0=127.0.0.0/8" }, "203.0.113.7", "https")]
    public async Task Forwarded_client_address_and_scheme_are_believed_only_from_configured_proxies(string[] settings, string remote, string scheme)
    {
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0", settings);
        using var http = HttpsHost.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Http!, "/healthz"));
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(remote, response.Headers.GetValues(HttpsHost.SeenRemoteHeader).Single());
        Assert.Equal(scheme, response.Headers.GetValues(HttpsHost.SeenSchemeHeader).Single());
    }

    [Fact]
    public async Task A_proxy_that_terminated_tls_is_not_redirected_to_https()
    {
        using var files = new TestCertificates();
        files.WritePem(TestCertificates.Create("behind"));
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0;https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("key.pem")}", "--Proxy:KnownProxies:0=127.0.0.1");
        using var http = HttpsHost.Client();

        using var proxied = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Http!, "/"));
        proxied.Headers.Add("X-Forwarded-Proto", "https");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(proxied)).StatusCode);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, (await http.GetAsync(new Uri(host.Http!, "/"))).StatusCode);
    }

    [Fact]
    public async Task Under_a_path_base_the_app_invite_links_static_files_and_signaling_work()
    {
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0", "--Proxy:PathBase=/parley/");
        using var http = HttpsHost.Client();
        var root = new Uri(host.Http!, "/parley/");

        var page = await http.GetStringAsync(root);
        Assert.Contains("<base href=\"/parley/\">", page, StringComparison.Ordinal);
        Assert.Equal(page, await http.GetStringAsync(new Uri(root, "r/%E5%AE%B6%E5%BA%AD")));
        Assert.Equal(page, await http.GetStringAsync(new Uri(host.Http!, "/parley")));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(root, "ui/app.js"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(root, "client/index.js"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(root, "healthz"))).StatusCode);
        Assert.Contains($"open http://127.0.0.1:{host.Http!.Port}/parley/ in your browser", host.Output, StringComparison.Ordinal);

        await using var socket = await WsClient.WelcomedAsync(new Uri($"ws://127.0.0.1:{host.Http!.Port}/parley/ws"));
        Assert.NotEmpty(socket.PeerId);
    }

    [Fact]
    public async Task Without_a_path_base_the_page_keeps_its_root_base()
    {
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0");
        using var http = HttpsHost.Client();

        Assert.Contains("<base href=\"/\">", await http.GetStringAsync(host.Http!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_problems_are_reported_one_line_each()
    {
        var problems = await HttpsTests.ProblemsAsync("http://127.0.0.1:0",
            "--Proxy:KnownProxies:0=proxy.example.org", "--Proxy:KnownNetworks:0=10.0.0.0/33", "--Proxy:PathBase=parley", "--Proxy:ForwardLimit=0",
            "--Signaling:RoomCapacity=12");

        Assert.Contains("Proxy:KnownProxies has 'proxy.example.org'", problems, StringComparison.Ordinal);
        Assert.Contains("Proxy:KnownNetworks has '10.0.0.0/33'", problems, StringComparison.Ordinal);
        Assert.Contains("Proxy:PathBase is 'parley'", problems, StringComparison.Ordinal);
        Assert.Contains("Proxy:ForwardLimit is 0", problems, StringComparison.Ordinal);
        Assert.Contains("RoomCapacity is 12", problems, StringComparison.Ordinal);
    }
}
