using System.Net;
using Microsoft.Extensions.Options;

namespace Parley.Server.Observability;

/// <summary>The <c>Metrics</c> section: the Prometheus endpoint and optional OTLP export (docs/configuration.md).</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>Loopback only: what <see cref="AllowedNetworks"/> means when empty.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowedNetworks = ["127.0.0.0/8", "::1/128"];

    /// <summary>Serve <c>/metrics</c>. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Networks (CIDR, or single addresses) whose clients may read <c>/metrics</c>; everyone else gets 404.
    /// Empty: loopback only (127.0.0.0/8 and ::1).
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    public OtlpOptions Otlp { get; set; } = new();

    /// <summary>The allow-list in force, parsed (call after validation).</summary>
    public IReadOnlyList<IPNetwork> EffectiveAllowedNetworks() =>
        [.. (AllowedNetworks.Count == 0 ? DefaultAllowedNetworks : AllowedNetworks).Select(n => TryParseNetwork(n, out var network) ? network : throw new FormatException(n))];

    internal static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        text = text.Trim();
        if (IPAddress.TryParse(text, out var single) && !text.Contains('/', StringComparison.Ordinal))
        {
            network = new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        // "10.0.0.1/8" is refused rather than silently read as 10.0.0.0/8: the operator probably meant something else.
        return IPNetwork.TryParse(text, out network)
            && IPAddress.TryParse(text.AsSpan(0, text.IndexOf('/', StringComparison.Ordinal)), out var written)
            && written.Equals(network.BaseAddress);
    }
}

/// <summary>Pushing the same metrics to an OpenTelemetry collector. Off unless <see cref="Endpoint"/> is set.</summary>
public sealed class OtlpOptions
{
    /// <summary>The collector, e.g. <c>http://localhost:4317</c> (gRPC) or <c>http://localhost:4318/v1/metrics</c> (HTTP). Empty: no export.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>How often metrics are pushed. Default 1 minute; 1 s to 1 h.</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromMinutes(1);
}

internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        List<string> failures = [];
        for (var i = 0; i < options.AllowedNetworks.Count; i++)
        {
            if (!MetricsOptions.TryParseNetwork(options.AllowedNetworks[i], out _))
                failures.Add($"Metrics:AllowedNetworks:{i} is '{options.AllowedNetworks[i]}': not an address or a network in CIDR notation such as 10.0.0.0/8 or fd00::/8 (no bits may be set after the prefix).");
        }
        if (!string.IsNullOrEmpty(options.Otlp.Endpoint)
            && !(Uri.TryCreate(options.Otlp.Endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            failures.Add($"Metrics:Otlp:Endpoint is '{options.Otlp.Endpoint}': use an http:// or https:// URL such as http://localhost:4317, or leave it empty.");
        if (options.Otlp.Protocol is not ("grpc" or "http/protobuf"))
            failures.Add($"Metrics:Otlp:Protocol is '{options.Otlp.Protocol}': use grpc or http/protobuf.");
        if (options.Otlp.ExportInterval < TimeSpan.FromSeconds(1) || options.Otlp.ExportInterval > TimeSpan.FromHours(1))
            failures.Add($"Metrics:Otlp:ExportInterval is {options.Otlp.ExportInterval}: use 00:00:01 to 01:00:00.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary><c>Logging:Format</c> (or <c>--log-format</c>): how console log lines look.</summary>
public sealed class LogFormatOptions
{
    /// <summary><c>simple</c> (default, for people), <c>json</c> (one JSON object per line, for log shippers) or <c>systemd</c>.</summary>
    public string Format { get; set; } = "simple";
}

internal sealed class LogFormatOptionsValidator : IValidateOptions<LogFormatOptions>
{
    public ValidateOptionsResult Validate(string? name, LogFormatOptions options) =>
        options.Format is "simple" or "json" or "systemd"
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Logging:Format (--log-format) is '{options.Format}': use simple, json or systemd.");
}
