using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Parley.Signaling;
using Parley.Turn;
using Parley.Turn.Hosting;

namespace Parley.Server.Https;

/// <summary>
/// <c>Turn:ShareHttpsPort</c>: TURN over TLS on the web server's HTTPS port(s), for networks that let only TLS to 443
/// out. Kestrel does the TLS handshake (the web certificate, with its reloads); <see cref="HttpsPortSharing"/>, placed
/// after it on every HTTPS endpoint, hands TURN clients to the TURN server and everything else to HTTP.
/// </summary>
/// <remarks>
/// Why the endpoints move: for addresses given as URLs (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>http(s)_ports</c>,
/// Parley's defaults), Kestrel applies <c>ConfigureEndpointDefaults</c> to each endpoint <em>before</em> it adds TLS,
/// so connection middleware added there sees encrypted bytes, and nothing runs between its TLS and HTTP. Endpoints
/// from the <c>Kestrel:Endpoints</c> section get a per-endpoint callback (<c>KestrelConfigurationLoader.Endpoint</c>)
/// that runs after the HTTPS defaults and before Kestrel's own <c>UseHttps</c>, and skips that when the callback added
/// TLS itself. So with the switch on, the URLs become <c>Kestrel:Endpoints</c> entries (same addresses, same
/// defaults), and the callback adds TLS and then the TURN branch. Off, nothing here runs.
/// </remarks>
internal static class TurnOnHttpsPort
{
    private const string MovedEndpointPrefix = "ParleyUrl";

    /// <summary>Whether the switch is on and Parley serves HTTPS itself (the validator reports the other cases).</summary>
    public static bool IsOn(IConfiguration configuration)
    {
        var turn = HttpsSetup.ReadLeniently<TurnOptions>(configuration.GetSection(TurnOptions.SectionName));
        var https = HttpsSetup.ReadLeniently<HttpsOptions>(configuration.GetSection(HttpsOptions.SectionName));
        return turn.Enabled && turn.ShareHttpsPort && https.Enabled;
    }

    /// <summary>Call after the default URLs are set.</summary>
    public static void AddTurnOnHttpsPort(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddSingleton<IValidateOptions<TurnOptions>, ShareHttpsPortValidator>();
        if (!IsOn(configuration))
            return;

        // With Kestrel:Endpoints present Kestrel ignores the URLs anyway (with a warning): leave that as it is.
        var urls = configuration.GetSection("Kestrel:Endpoints").GetChildren().Any() ? [] : UrlsOf(configuration);
        if (urls.Count > 0)
        {
            // The host must not bind them a second time (nor warn that endpoints override them).
            foreach (var key in new[] { "urls", "http_ports", "https_ports" })
            {
                if (!string.IsNullOrEmpty(configuration[key]))
                    configuration[key] = "";
            }
            configuration.AddInMemoryCollection(urls.Select((url, i) =>
                KeyValuePair.Create($"Kestrel:Endpoints:{MovedEndpointPrefix}{i}:Url", (string?)url)));
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var section = configuration.GetSection("Kestrel");
            var loader = kestrel.Configure(section, reloadOnChange: true);
            foreach (var endpoint in section.GetSection("Endpoints").GetChildren())
            {
                loader.Endpoint(endpoint.Key, https =>
                {
                    // An endpoint with per-name (SNI) settings keeps Kestrel's own TLS setup: it serves HTTP only.
                    if (!https.IsHttps || https.ConfigSection.GetSection("Sni").Exists())
                        return;
                    HttpsPortSharing.OfferTurnAlpn(https.HttpsOptions);
                    https.ListenOptions.UseHttps(https.HttpsOptions);
                    https.ListenOptions.UseTurnAfterTls();
                });
            }
        });
    }

    /// <summary>The URLs the host would bind: <c>urls</c>, else <c>http_ports</c>/<c>https_ports</c> on every address.</summary>
    private static List<string> UrlsOf(ConfigurationManager configuration)
    {
        static IEnumerable<string> Split(string? value) =>
            (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var urls = Split(configuration["urls"]).ToList();
        if (urls.Count == 0)
        {
            urls.AddRange(Split(configuration["http_ports"]).Select(port => $"http://*:{port}"));
            urls.AddRange(Split(configuration["https_ports"]).Select(port => $"https://*:{port}"));
        }
        return urls;
    }

    /// <summary>
    /// The port browsers reach the HTTPS listener on: <c>Https:RedirectPort</c> when a port forward changes it, else the
    /// first HTTPS port Kestrel bound. Null before the server has started or without HTTPS.
    /// </summary>
    public static int? PublicHttpsPort(IServer server, HttpsOptions https)
    {
        if (https.RedirectPort is int forwarded)
            return forwarded;
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (address.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                && Uri.TryCreate(address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri) && uri.Port > 0)
                return uri.Port;
        }
        return null;
    }
}

/// <summary>The switch needs the HTTPS listener in this process: say so at startup rather than advertise a dead URL.</summary>
internal sealed class ShareHttpsPortValidator(IConfiguration configuration) : IValidateOptions<TurnOptions>
{
    public ValidateOptionsResult Validate(string? name, TurnOptions options)
    {
        if (!options.Enabled || !options.ShareHttpsPort)
            return ValidateOptionsResult.Success;
        var https = HttpsSetup.ReadLeniently<HttpsOptions>(configuration.GetSection(HttpsOptions.SectionName));
        return https.Enabled
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                "Turn:ShareHttpsPort is on but Parley does not serve HTTPS itself: set Https:CertificatePath (or use --lan). " +
                "Behind a proxy that terminates TLS it cannot work: turn it off and use Turn:TlsPort, or route the port by SNI in the proxy (docs/turn.md).");
    }
}
