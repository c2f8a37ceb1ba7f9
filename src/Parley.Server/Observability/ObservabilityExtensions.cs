using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Parley.Signaling;
using Parley.Turn;

[assembly: InternalsVisibleTo("Parley.Server.Tests")]

namespace Parley.Server.Observability;

/// <summary>Metrics at <c>/metrics</c> (Prometheus text), optional OTLP export, and the console log format.</summary>
public static class ObservabilityExtensions
{
    internal static readonly string[] MeterNames = [SignalingMetrics.MeterName, TurnMetrics.MeterName];

    /// <summary>Registers metrics collection and export, and applies <c>Logging:Format</c> / <c>--log-format</c>.</summary>
    public static WebApplicationBuilder AddParleyObservability(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(StringComparer.Ordinal) { ["--log-format"] = "Logging:Format" });
        switch (builder.Configuration["Logging:Format"])
        {
            case "json":
                builder.Logging.AddJsonConsole(o =>
                {
                    o.IncludeScopes = true;
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
                break;
            case "systemd":
                builder.Logging.AddSystemdConsole();
                break;
        }

        var services = builder.Services;
        services.AddOptions<LogFormatOptions>().Bind(builder.Configuration.GetSection("Logging")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LogFormatOptions>, LogFormatOptionsValidator>();
        services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        services.AddMetrics();
        services.AddSingleton(sp => new MetricsCollector(sp.GetRequiredService<IMeterFactory>(), MeterNames));
        services.AddSingleton<TurnMetrics>();
        services.AddHostedService<ObservabilityStartup>();
        return builder;
    }

    /// <summary>Serves <c>/metrics</c> to the allowed networks only; others get an empty 404, as if it did not exist.</summary>
    public static WebApplication MapParleyMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>();
        IReadOnlyList<IPNetwork>? allowed = null;
        app.MapGet("/metrics", (HttpContext context, MetricsCollector collector) =>
        {
            if (!options.Value.Enabled)
                return Results.NotFound();
            allowed ??= options.Value.EffectiveAllowedNetworks(); // options are valid by the time a request arrives
            if (!IsAllowed(context.Connection.RemoteIpAddress, allowed))
                return Results.NotFound();
            var text = new StringBuilder();
            PrometheusText.Write(text, collector.Collect());
            return Results.Text(text.ToString(), PrometheusText.ContentType);
        });
        return app;
    }

    internal static bool IsAllowed(IPAddress? remote, IReadOnlyList<IPNetwork> allowed)
    {
        if (remote is null)
            return false;
        if (remote.IsIPv4MappedToIPv6)
            remote = remote.MapToIPv4();
        foreach (var network in allowed)
        {
            if (network.Contains(remote))
                return true;
        }
        return false;
    }
}

/// <summary>
/// Once configuration is validated: starts listening to the meters, creates the TURN instruments when the embedded
/// server runs, and starts the OTLP exporter when configured (flushed and stopped with the host).
/// </summary>
internal sealed class ObservabilityStartup(IServiceProvider services, IOptions<MetricsOptions> metrics, IOptions<TurnOptions> turn) : IHostedService
{
    private MeterProvider? _otlp;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<MetricsCollector>();
        if (turn.Value.Enabled)
            services.GetRequiredService<TurnMetrics>();
        var otlp = metrics.Value.Otlp;
        if (!string.IsNullOrEmpty(otlp.Endpoint))
        {
            // The OpenTelemetry SDK alone (no hosting package: the feed lacks OpenTelemetry.Extensions.Hosting).
            _otlp = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("parley"))
                .AddMeter(ObservabilityExtensions.MeterNames)
                .AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = new Uri(otlp.Endpoint);
                    exporter.Protocol = otlp.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlp.ExportInterval.TotalMilliseconds;
                })
                .Build();
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _otlp?.Dispose();
        _otlp = null;
        return Task.CompletedTask;
    }
}
