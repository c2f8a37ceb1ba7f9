using System.Net;
using System.Text;
using Parley.Server.Proxy;
using QRCoder;

namespace Parley.Server.Https;

/// <summary>
/// LAN mode's start-up message: for each address of this machine, the URL to open and a QR code of it, so a phone
/// on the same network can join by scanning the terminal.
/// </summary>
public static class LanBanner
{
    internal static void Print(WebApplication app)
    {
        var output = app.Services.GetRequiredService<StartupOutput>().Writer;
        var pathBase = ProxySetup.PathBase(app.Configuration);
        output.Write(Render(ParleyApp.BoundAddresses(app)
            .Where(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            .SelectMany(ParleyApp.OpenableUrls)
            .Select(u => $"{u}{pathBase}/")
            .Distinct()
            .ToList()));
        output.Flush();
    }

    /// <summary>
    /// One block per URL; loopback URLs are left out when there are others (a phone cannot open them).
    /// </summary>
    public static string Render(IReadOnlyList<string> urls)
    {
        var reachable = urls.Where(u => !IsLoopback(u)).ToList();
        if (reachable.Count == 0)
            reachable = [.. urls];
        var text = new StringBuilder();
        text.Append('\n').Append("LAN mode: open one of these on another device of this network, or scan its code with a phone.\n");
        text.Append("The certificate is self-signed: the browser warns once; choose \"Advanced\" then \"Proceed\" (docs/operations.md).\n");
        foreach (var url in reachable)
        {
            text.Append('\n').Append("  ").Append(url).Append('\n');
            text.Append(QrCode(url));
        }
        return text.ToString();
    }

    /// <summary>
    /// The code in half-block characters with its quiet zone. The light modules are drawn, so on the usual dark
    /// terminal the code shows dark-on-light as scanners expect.
    /// </summary>
    public static string QrCode(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.L);
        using var code = new AsciiQRCode(data);
        return code.GetGraphicSmall(drawQuietZones: true, invert: false, endOfLine: "\n") + "\n";
    }

    private static bool IsLoopback(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));
}
