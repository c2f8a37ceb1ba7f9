using System.Net;
using Parley.Server.Https;

namespace Parley.Server.Tests;

/// <summary>HTTPS from configured certificate files on real Kestrel: PEM, PFX, reload, redirect, HSTS, errors.</summary>
public sealed class HttpsTests
{
    [Fact]
    public async Task A_pem_certificate_is_served_and_replacing_the_files_switches_it_without_a_restart()
    {
        using var files = new TestCertificates();
        var first = TestCertificates.Create("first");
        var second = TestCertificates.Create("second");
        files.WritePem(first);
        await using var host = await HttpsHost.StartAsync("https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("key.pem")}");

        Assert.Equal(first.Thumbprint, (await HttpsHost.PresentedCertificateAsync(host.Https!)).Thumbprint);
        using var http = HttpsHost.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(host.Https!, "/healthz"))).StatusCode);

        // A half-written or broken replacement: the current certificate stays.
        await File.WriteAllTextAsync(files.PathOf("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB");
        await HttpsHost.WaitUntilAsync(() => host.Certificate.FailedReloads > 0, "the broken file was tried");
        Assert.Equal(first.Thumbprint, (await HttpsHost.PresentedCertificateAsync(host.Https!)).Thumbprint);

        // The renewal arrives: new connections get it, the server never restarted.
        files.WritePem(second);
        await HttpsHost.WaitForThumbprintAsync(host.Https!, t => t == second.Thumbprint, "the renewed certificate");
        Assert.True(host.Certificate.Reloads >= 1);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(host.Https!, "/healthz"))).StatusCode);
    }

    [Fact]
    public async Task A_pfx_with_a_password_is_served_and_reloaded()
    {
        using var files = new TestCertificates();
        var first = TestCertificates.Create("pfx-first");
        files.WritePfx(first, "s3cret");
        await using var host = await HttpsHost.StartAsync("https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pfx")}", "--Https:CertificatePassword=s3cret");

        Assert.Equal(first.Thumbprint, (await HttpsHost.PresentedCertificateAsync(host.Https!)).Thumbprint);

        var second = TestCertificates.Create("pfx-second");
        files.WritePfx(second, "s3cret", "next.pfx");
        File.Move(files.PathOf("next.pfx"), files.PathOf("cert.pfx"), overwrite: true); // renamed onto it, as tools do
        await HttpsHost.WaitForThumbprintAsync(host.Https!, t => t == second.Thumbprint, "the replaced PFX");
    }

    [Fact]
    public async Task Http_is_redirected_to_https_and_hsts_is_sent_by_default_with_a_certificate()
    {
        using var files = new TestCertificates();
        files.WritePem(TestCertificates.Create("redirect"));
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0;https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("key.pem")}");
        using var http = HttpsHost.Client();

        var redirect = await http.GetAsync(new Uri(host.Http!, "/r/family?policy=relay"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        Assert.Equal(new Uri(host.Https!, "/r/family?policy=relay"), redirect.Headers.Location);

        // Health probes and metric scrapers on plain HTTP are answered, not redirected.
        foreach (var probe in new[] { "/healthz", "/readyz", "/metrics" })
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(host.Http!, probe))).StatusCode);

        // HSTS is left out for localhost names by design; a real name gets it.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Https!, "/"));
        request.Headers.Host = "parley.example.org";
        var secure = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, secure.StatusCode);
        Assert.Contains("max-age=31536000", secure.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redirect_and_hsts_can_be_turned_off()
    {
        using var files = new TestCertificates();
        files.WritePem(TestCertificates.Create("no-redirect"));
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0;https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("key.pem")}",
            "--Https:RedirectHttp=false", "--Https:Hsts=false");
        using var http = HttpsHost.Client();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(host.Http!, "/"))).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Https!, "/"));
        request.Headers.Host = "parley.example.org";
        var secure = await http.SendAsync(request);
        Assert.False(secure.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Without_https_plain_http_is_served_and_not_redirected()
    {
        await using var host = await HttpsHost.StartAsync("http://127.0.0.1:0");
        using var http = HttpsHost.Client();

        var response = await http.GetAsync(new Uri(host.Http!, "/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(host.Certificate.Enabled);
    }

    [Fact]
    public async Task Certificate_problems_are_reported_as_plain_sentences()
    {
        using var files = new TestCertificates();
        var certificate = TestCertificates.Create("problems");
        files.WritePem(certificate);
        files.WritePem(TestCertificates.Create("other"), "other.pem", "other-key.pem");
        files.WritePfx(certificate, "right");

        Assert.Contains("does not exist", await ProblemsAsync("https://127.0.0.1:0", $"--Https:CertificatePath={files.PathOf("missing.pem")}"), StringComparison.Ordinal);
        Assert.Contains("Https:CertificatePassword is wrong", await ProblemsAsync("https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pfx")}", "--Https:CertificatePassword=wrong"), StringComparison.Ordinal);
        Assert.Contains("does not match the certificate", await ProblemsAsync("https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("other-key.pem")}"), StringComparison.Ordinal);
        Assert.Contains("Https:KeyPath", await ProblemsAsync("https://127.0.0.1:0",
            $"--Https:CertificatePath={files.PathOf("cert.pem")}", $"--Https:KeyPath={files.PathOf("nokey.pem")}"), StringComparison.Ordinal);
        Assert.Contains("no certificate", await ProblemsAsync("https://127.0.0.1:0"), StringComparison.Ordinal);
        Assert.Contains("has no https:// address", await ProblemsAsync("http://127.0.0.1:0", "--lan"), StringComparison.Ordinal);
        Assert.Contains("'Https:Port'", await ProblemsAsync("https://127.0.0.1:0", "--lan", "--Https:Port=eighty"), StringComparison.Ordinal);
    }

    /// <summary>Starts with <paramref name="settings"/>, expects it to fail on configuration, returns the problems as text.</summary>
    internal static async Task<string> ProblemsAsync(string urls, params string[] settings)
    {
        var app = HttpsHost.Build(urls, null, settings);
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
            var problems = ParleyApp.ConfigurationProblems(error);
            Assert.True(problems.Count > 0, $"Not reported as a configuration problem: {error}");
            Assert.All(problems, p => Assert.DoesNotContain('\n', p));
            return string.Join("\n", problems);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}
