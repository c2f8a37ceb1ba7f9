using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.Extensions.Options;

namespace Parley.Server.Https;

/// <summary>Where startup messages (URLs, QR codes) go: the console, or a test's writer.</summary>
public sealed class StartupOutput(TextWriter writer)
{
    public TextWriter Writer { get; } = writer;
}

/// <summary>
/// HTTPS for the host: Kestrel's certificate from <see cref="ServerCertificate"/>, the <c>--lan</c> switch, default
/// URLs, HTTP→HTTPS redirection and HSTS.
/// </summary>
public static class HttpsSetup
{
    /// <summary>The plain-HTTP URLs added beside HTTPS when no URLs are configured (redirected to HTTPS).</summary>
    private const int DefaultHttpPort = 8080;

    /// <summary><c>--lan</c> is short for <c>--Https:Lan=true</c> (a bare switch is not valid ASP.NET Core configuration).</summary>
    public static string[] ExpandSwitches(string[] args) =>
        [.. args.Select(a => a is "--lan" or "/lan" ? "--Https:Lan=true" : a)];

    /// <summary>
    /// The URLs to listen on when none are configured: <paramref name="plainDefault"/> without HTTPS; with a
    /// certificate also https://localhost:8443; in LAN mode every interface, HTTP 8080 and HTTPS 8443.
    /// </summary>
    public static string DefaultUrls(IConfiguration configuration, string plainDefault)
    {
        var https = ReadLeniently<HttpsOptions>(configuration.GetSection(HttpsOptions.SectionName));
        if (https.Lan)
            return $"http://*:{DefaultHttpPort};https://*:{https.Port}";
        return https.Enabled ? $"{plainDefault};https://localhost:{https.Port}" : plainDefault;
    }

    /// <summary>The URLs given by --urls / ASPNETCORE_URLS / Kestrel:Endpoints.</summary>
    internal static IReadOnlyList<string> ConfiguredUrls(IConfiguration configuration) =>
    [
        .. (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        .. configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>(),
    ];

    public static void AddParleyHttps(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HttpsOptions>().Bind(builder.Configuration.GetSection(HttpsOptions.SectionName)).ValidateOnStart()
            .PostConfigure(https =>
            {
                // appsettings.json's nulls may bind as empty strings.
                https.CertificatePath = NullIfEmpty(https.CertificatePath);
                https.KeyPath = NullIfEmpty(https.KeyPath);
                https.CertificatePassword = NullIfEmpty(https.CertificatePassword);
            });
        builder.Services.AddSingleton<IValidateOptions<HttpsOptions>, HttpsOptionsValidator>();
        builder.Services.AddSingleton<ServerCertificate>();
        builder.Services.AddSingleton(new StartupOutput(Console.Out));
        builder.Services.AddOptions<HttpsRedirectionOptions>().Configure<IOptions<HttpsOptions>>((redirect, https) => redirect.HttpsPort = https.Value.RedirectPort);
        builder.Services.AddOptions<HstsOptions>().Configure<IOptions<HttpsOptions>>((hsts, https) => hsts.MaxAge = https.Value.HstsMaxAge);

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(defaults =>
        {
            var certificate = kestrel.ApplicationServices.GetRequiredService<ServerCertificate>();
            if (!certificate.Enabled)
                return;
            // Kestrel needs a certificate or selector to accept the endpoint; each handshake then takes the
            // current certificate with its chain (intermediates from fullchain.pem), so a reload applies at once.
            defaults.ServerCertificateSelector = (_, _) => certificate.Current;
            defaults.OnAuthenticate = (_, ssl) =>
            {
                ssl.ServerCertificateSelectionCallback = null;
                ssl.ServerCertificate = null;
                ssl.ServerCertificateContext = certificate.Context;
            };
        }));
    }

    /// <summary>
    /// A section read while the app is composed, before startup validation: a value of the wrong type gives the
    /// defaults here, and startup then reports it (<see cref="ParleyApp.ConfigurationProblems"/>).
    /// </summary>
    internal static T ReadLeniently<T>(IConfigurationSection section) where T : new()
    {
        try
        {
            return section.Get<T>() ?? new T();
        }
        catch (InvalidOperationException)
        {
            return new T();
        }
    }

    private static bool IsOperationalEndpoint(PathString path) =>
        path.Equals("/healthz", StringComparison.Ordinal) || path.Equals("/readyz", StringComparison.Ordinal)
        || path.Equals("/metrics", StringComparison.Ordinal);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>HSTS and HTTP→HTTPS redirection, when HTTPS is on. After forwarded headers, so a TLS proxy counts.</summary>
    public static void UseParleyHttps(this WebApplication app)
    {
        // Raw configuration: resolving the validated options here would throw before startup can report every problem.
        var https = ReadLeniently<HttpsOptions>(app.Configuration.GetSection(HttpsOptions.SectionName));
        if (!https.Enabled)
            return;
        if (https.EffectiveHsts)
            app.UseHsts();
        // Probes and scrapers (/healthz, /readyz, /metrics) often speak plain HTTP on the host itself: answer them.
        if (https.RedirectHttp)
            app.UseWhen(context => !IsOperationalEndpoint(context.Request.Path), redirected => redirected.UseHttpsRedirection());
        if (https.Lan)
            app.Lifetime.ApplicationStarted.Register(() => LanBanner.Print(app));
    }
}
