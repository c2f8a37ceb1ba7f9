using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Parley.Server.Admin;
using Parley.Server.Draining;
using Parley.Server.Https;
using Parley.Server.Proxy;
using Parley.Server.Observability;
using Parley.Signaling;

namespace Parley.Server;

/// <summary>Composes Parley: web app, signaling endpoint, health checks. Tests start it in-process.</summary>
public static class ParleyApp
{
    /// <summary>Where the app listens when neither <c>--urls</c>, <c>ASPNETCORE_URLS</c> nor Kestrel endpoints say.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = HttpsSetup.ExpandSwitches(args),
            ContentRootPath = AppContext.BaseDirectory,
        });

        if (!HasConfiguredUrls(builder.Configuration))
            builder.WebHost.UseUrls(HttpsSetup.DefaultUrls(builder.Configuration, DefaultUrl));

        builder.Services.AddSignaling(builder.Configuration.GetSection(SignalingOptions.SectionName));
        builder.AddEmbeddedTurn();
        builder.AddParleyHttps();
        builder.AddTurnOnHttpsPort();
        builder.AddParleyProxy();
        builder.Services.AddHealthChecks();
        builder.AddParleyDraining();
        builder.AddParleyAdmin();
        builder.AddParleyObservability(args);
        configure?.Invoke(builder);

        var app = builder.Build();

        var webRoot = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "web"));
        app.UseParleyProxy();
        app.UseParleyHttps();
        app.UseWebSockets();
        app.UseParleyDraining("/ws");
        app.MapParleyAdmin();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = webRoot, ServeUnknownFileTypes = false });
        app.MapSignaling("/ws");
        app.MapHealthChecks("/healthz");
        app.MapParleyMetrics();

        // The lobby and invite links (/r/<room>) are the same single page.
        var index = webRoot.GetFileInfo("ui/index.html");
        app.MapGet("/", (HttpRequest request) => ProxySetup.IndexPage(index, request));
        app.MapGet("/r/{room}", (HttpRequest request) => ProxySetup.IndexPage(index, request));

        app.Lifetime.ApplicationStarted.Register(() => PrintUrls(app));
        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 resolved), once started.</summary>
    public static IReadOnlyList<string> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>
    /// The configuration problems behind a failed start, one line each, or none if <paramref name="e"/> is something
    /// else. Startup validation throws one exception per failing section, aggregated when there are several.
    /// </summary>
    public static IReadOnlyList<string> ConfigurationProblems(Exception e)
    {
        // One bad section can fail twice (an option that reads another section's options), so lines are distinct.
        var causes = e is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [e];
        var problems = causes.Select(Problems).ToList();
        return problems.Any(p => p.Count == 0) ? [] : [.. problems.SelectMany(p => p).Distinct()];
    }

    private static IReadOnlyList<string> Problems(Exception e) => e switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        // The binder's own message names the key and the type: "Failed to convert configuration value at 'Https:Port' to type 'System.Int32'."
        InvalidOperationException binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [binding.Message],
        _ => [],
    };

    /// <summary>
    /// Runs the startup validation now, so a configuration mistake surfaces as <see cref="ConfigurationProblems"/>
    /// before the host starts (and logs it as a failure with a stack trace).
    /// </summary>
    public static void ValidateConfiguration(WebApplication app) => app.Services.GetService<IStartupValidator>()?.Validate();

    private static bool HasConfiguredUrls(ConfigurationManager configuration) =>
        !string.IsNullOrEmpty(configuration["urls"])
        || !string.IsNullOrEmpty(configuration["http_ports"])
        || !string.IsNullOrEmpty(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();

    private static void PrintUrls(WebApplication app)
    {
        var output = app.Services.GetRequiredService<StartupOutput>().Writer;
        // With JSON logs every console line must be a JSON object, so the URLs go through the logger then.
        var asLog = string.Equals(app.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase);
        foreach (var address in BoundAddresses(app).SelectMany(OpenableUrls).Distinct())
        {
            var url = $"{address}{ProxySetup.PathBase(app.Configuration)}/";
            if (asLog)
                HostLog.Running(app.Logger, url);
            else
                output.WriteLine($"Parley is running: open {url} in your browser.");
        }
    }

    /// <summary>A wildcard binding (0.0.0.0, [::]) is not a URL anyone can open: list this machine's addresses instead.</summary>
    internal static IEnumerable<string> OpenableUrls(string bound)
    {
        var uri = new Uri(bound.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
        if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out var host) || !(host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any)))
            return [bound];
        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork || (host.Equals(IPAddress.IPv6Any) && !a.IsIPv6LinkLocal))
            .Select(a => $"{uri.Scheme}://{(a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]" : a.ToString())}:{uri.Port}");
    }
}
