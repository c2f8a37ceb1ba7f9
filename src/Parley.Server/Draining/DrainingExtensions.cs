using System.Globalization;
using Microsoft.Extensions.Options;

namespace Parley.Server.Draining;

/// <summary>Graceful stops and <c>/readyz</c>: <c>builder.AddParleyDraining()</c>, then <c>app.UseParleyDraining("/ws")</c>.</summary>
internal static class DrainingExtensions
{
    /// <summary>Stable id of the refusal of new signaling sockets while draining (docs/signaling-protocol.md).</summary>
    public const string DrainingErrorId = "server-draining";

    public static void AddParleyDraining(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DrainOptions>().Bind(builder.Configuration.GetSection(DrainOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DrainOptions>, DrainOptionsValidator>();
        builder.Services.AddSingleton<DrainCoordinator>();
        builder.Services.AddHostedService(s => s.GetRequiredService<DrainCoordinator>());
        // The host's stop must outlast the drain, or the drain would be cut short.
        builder.Services.AddSingleton<IPostConfigureOptions<HostOptions>, ShutdownCoversDrain>();
    }

    /// <summary>
    /// Refuses new signaling sockets at <paramref name="signalingPath"/> while draining (HTTP 503, before the
    /// WebSocket upgrade, so clients retry elsewhere or later) and serves <c>/readyz</c>.
    /// </summary>
    public static void UseParleyDraining(this WebApplication app, string signalingPath)
    {
        var drain = app.Services.GetRequiredService<DrainCoordinator>();
        var options = app.Services.GetRequiredService<IOptions<DrainOptions>>();
        app.Use(async (context, next) =>
        {
            if (drain.IsDraining && context.Request.Path.StartsWithSegments(signalingPath, StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(options.Value.TurnGrace.TotalSeconds) + 1).ToString(CultureInfo.InvariantCulture);
                await context.Response.WriteAsJsonAsync(new DrainRefusal(DrainingErrorId, "The server is shutting down or restarting; reconnect shortly (or to another node)."),
                    DrainJsonContext.Default.DrainRefusal, cancellationToken: context.RequestAborted);
                return;
            }
            await next(context);
        });

        app.MapGet("/readyz", () =>
        {
            var state = drain.State;
            var body = new ReadinessReport(state switch
            {
                DrainState.Serving => "ready",
                DrainState.Starting => "starting",
                _ => "draining",
            });
            return Results.Json(body, DrainJsonContext.Default.ReadinessReport,
                statusCode: state == DrainState.Serving ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }

    /// <summary>
    /// Reads the section itself: host options are built with the host, before validation, which must still report a
    /// bad value with every other problem rather than fail here.
    /// </summary>
    private sealed class ShutdownCoversDrain(IConfiguration configuration) : IPostConfigureOptions<HostOptions>
    {
        public void PostConfigure(string? name, HostOptions options)
        {
            var drain = new DrainOptions();
            try
            {
                configuration.GetSection(DrainOptions.SectionName).Bind(drain);
            }
            catch (InvalidOperationException)
            {
                return; // unreadable: validation reports it
            }
            var grace = drain.TurnGrace < TimeSpan.Zero || drain.TurnGrace > DrainOptions.MaxTurnGrace ? TimeSpan.Zero : drain.TurnGrace;
            var needed = grace + TimeSpan.FromSeconds(5);
            if (options.ShutdownTimeout < needed)
                options.ShutdownTimeout = needed;
        }
    }
}

internal sealed record DrainRefusal(string Error, string Message);

internal sealed record ReadinessReport(string Status);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DrainRefusal))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ReadinessReport))]
internal sealed partial class DrainJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
