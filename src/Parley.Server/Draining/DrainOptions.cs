using Microsoft.Extensions.Options;

namespace Parley.Server.Draining;

/// <summary>The <c>Drain</c> section: what a stop (SIGTERM, systemd stop or restart) waits for.</summary>
public sealed class DrainOptions
{
    public const string SectionName = "Drain";

    /// <summary>The longest <see cref="TurnGrace"/> allowed.</summary>
    public static readonly TimeSpan MaxTurnGrace = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long existing TURN allocations keep relaying after a stop begins (new ones are refused at once). The
    /// stop ends sooner when the last allocation is gone. Signaling clients are told to reconnect at the start
    /// of it; new sessions are refused (HTTP 503) throughout. Default 10 s; 0 stops at once.
    /// </summary>
    public TimeSpan TurnGrace { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class DrainOptionsValidator : IValidateOptions<DrainOptions>
{
    public ValidateOptionsResult Validate(string? name, DrainOptions options) =>
        options.TurnGrace < TimeSpan.Zero || options.TurnGrace > DrainOptions.MaxTurnGrace
            ? ValidateOptionsResult.Fail($"{DrainOptions.SectionName}:TurnGrace is {options.TurnGrace}; use 00:00:00 to 00:10:00 (and keep systemd's TimeoutStopSec above it).")
            : ValidateOptionsResult.Success;
}
