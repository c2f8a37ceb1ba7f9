using System.Net;
using Parley.Server.Https;

namespace Parley.Server.Tests;

/// <summary>LAN mode: a self-signed certificate made once and kept, HTTPS without HSTS, URLs and QR codes printed.</summary>
public sealed class LanModeTests
{
    [Fact]
    public async Task Lan_mode_makes_a_certificate_keeps_it_and_reuses_it_on_the_next_start()
    {
        using var data = new TestCertificates(); // an empty temporary folder as the data directory
        string[] settings = ["--lan", $"--Signaling:DataDirectory={data.Directory}"];

        string thumbprint;
        await using (var host = await HttpsHost.StartAsync("https://127.0.0.1:0", settings))
        {
            var presented = await HttpsHost.PresentedCertificateAsync(host.Https!);
            thumbprint = presented.Thumbprint;
            var (dns, addresses) = LanCertificate.SubjectAlternativeNames(presented);
            Assert.Contains("localhost", dns);
            Assert.Contains(Dns.GetHostName().ToLowerInvariant(), dns);
            Assert.Contains(IPAddress.Loopback, addresses);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data.Directory, LanCertificate.FileName)));

            // The URL to open and its QR code are printed.
            var url = $"https://127.0.0.1:{host.Https!.Port}/";
            Assert.Contains(url, host.Output, StringComparison.Ordinal);
            Assert.Contains(LanBanner.QrCode(url), host.Output, StringComparison.Ordinal);

            // No HSTS in LAN mode: the self-signed certificate must stay skippable.
            using var http = HttpsHost.Client();
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.Https!, "/"));
            request.Headers.Host = "my-laptop.local";
            var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("Strict-Transport-Security"));
        }

        await using (var again = await HttpsHost.StartAsync("https://127.0.0.1:0", settings))
            Assert.Equal(thumbprint, (await HttpsHost.PresentedCertificateAsync(again.Https!)).Thumbprint);
    }

    [Fact]
    public void The_kept_certificate_is_made_again_when_an_address_is_new_or_it_nears_expiry()
    {
        using var data = new TestCertificates();
        var now = DateTimeOffset.UtcNow;
        var home = new LanIdentity("my-laptop", [IPAddress.Loopback, IPAddress.Parse("192.168.1.20"), IPAddress.Parse("2001:db8::20")]);

        var first = LanCertificate.LoadOrCreate(data.Directory, home, now, out var created);
        Assert.True(created);
        var (dns, addresses) = LanCertificate.SubjectAlternativeNames(first);
        Assert.Equal(["localhost", "my-laptop", "my-laptop.local"], dns.Order());
        Assert.Equal(home.Addresses.Order(new AddressOrder()), addresses.Order(new AddressOrder()));

        Assert.Equal(first.Thumbprint, LanCertificate.LoadOrCreate(data.Directory, home, now.AddDays(100), out created).Thumbprint);
        Assert.False(created);

        var moved = home with { Addresses = [.. home.Addresses, IPAddress.Parse("10.0.0.7")] };
        var second = LanCertificate.LoadOrCreate(data.Directory, moved, now.AddDays(100), out created);
        Assert.True(created);
        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.Contains(IPAddress.Parse("10.0.0.7"), LanCertificate.SubjectAlternativeNames(second).Addresses);

        // An address that went away is no reason to warn everyone again.
        Assert.Equal(second.Thumbprint, LanCertificate.LoadOrCreate(data.Directory, home, now.AddDays(100), out created).Thumbprint);
        Assert.False(created);

        var renewed = LanCertificate.LoadOrCreate(data.Directory, moved, now.AddDays(100) + LanCertificate.Lifetime - LanCertificate.RenewBefore, out created);
        Assert.True(created);
        Assert.NotEqual(second.Thumbprint, renewed.Thumbprint);
    }

    [Fact]
    public void The_terminal_qr_code_has_a_quiet_zone_and_a_square_shape()
    {
        var lines = LanBanner.QrCode("https://192.168.1.20:8443/").TrimEnd('\n').Split('\n');

        // Version 2 for this URL: 25 modules plus a 4-module quiet zone on each side; two rows per text line.
        Assert.All(lines, l => Assert.Equal(33, l.Length));
        Assert.Equal(17, lines.Length);
        // The quiet zone is light: drawn as full blocks on a dark terminal.
        Assert.Equal(new string('█', 33), lines[0]);
        Assert.Equal(new string('█', 33), lines[1]);
    }

    [Theory]
    [InlineData("https://192.168.1.20:8443/")]
    [InlineData("https://[2001:db8::20]:8443/parley/")]
    public async Task The_terminal_qr_code_scans_as_the_url(string url)
    {
        // Drawn characters are light on a dark terminal: each character is two modules, upper and lower half.
        var lines = LanBanner.QrCode(url).TrimEnd('\n').Split('\n');
        var modules = lines.SelectMany(line => new[]
        {
            line.Select(c => c is '█' or '▀').ToArray(),
            line.Select(c => c is '█' or '▄').ToArray(),
        }).ToList();
        var image = Path.Combine(Path.GetTempPath(), $"parley-qr-{Guid.NewGuid():N}.pgm");
        const int scale = 6;
        var pixels = new System.Text.StringBuilder($"P2\n{modules[0].Length * scale} {modules.Count * scale}\n255\n");
        foreach (var row in modules)
        {
            var line = string.Join(' ', row.SelectMany(light => Enumerable.Repeat(light ? "255" : "0", scale)));
            for (var i = 0; i < scale; i++)
                pixels.Append(line).Append('\n');
        }
        await File.WriteAllTextAsync(image, pixels.ToString());
        try
        {
            // zbar (Debian's zbar-tools), a real QR decoder, reads it back.
            Assert.Equal($"QR-Code:{url}", await ZbarAsync(image));
        }
        finally
        {
            File.Delete(image);
        }
    }

    private static async Task<string> ZbarAsync(string image)
    {
        using var zbar = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("zbarimg", ["-q", image])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("zbarimg did not start: apt-get install -y zbar-tools");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var output = zbar.StandardOutput.ReadToEndAsync(timeout.Token);
        _ = zbar.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await zbar.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            zbar.Kill();
            throw;
        }
        return (await output).Trim();
    }

    private sealed class AddressOrder : IComparer<IPAddress>
    {
        public int Compare(IPAddress? x, IPAddress? y) => string.CompareOrdinal(x?.ToString(), y?.ToString());
    }
}
