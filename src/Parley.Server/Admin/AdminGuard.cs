using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Parley.Server.Admin;

/// <summary>
/// Checks <c>Authorization: Bearer &lt;token&gt;</c> in constant time and limits wrong guesses per source address.
/// The token is compared as SHA-256 digests, so neither its length nor its content leaks through timing.
/// </summary>
internal sealed partial class AdminGuard(IOptions<AdminOptions> options, TimeProvider time, ILogger<AdminGuard> logger)
{
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Token ?? ""));
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, Failures> _failures = [];

    public enum Verdict
    {
        Allowed,
        Missing,
        Wrong,
        Blocked,
    }

    private sealed class Failures(long windowStart)
    {
        public long WindowStart { get; set; } = windowStart;
        public int Count { get; set; }
    }

    /// <summary>Decides on one request; <paramref name="retryAfter"/> is set for <see cref="Verdict.Blocked"/>.</summary>
    public Verdict Check(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var source = context.Connection.RemoteIpAddress ?? IPAddress.None;
        var settings = options.Value;
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (_failures.TryGetValue(source, out var failures))
            {
                var elapsed = time.GetElapsedTime(failures.WindowStart, now);
                if (elapsed >= settings.FailureWindow)
                {
                    _failures.Remove(source);
                }
                else if (failures.Count >= settings.MaxFailures)
                {
                    retryAfter = settings.FailureWindow - elapsed;
                    return Verdict.Blocked;
                }
            }
        }

        string? header = context.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Verdict.Missing;

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header.AsSpan(7).Trim().ToString()));
        if (CryptographicOperations.FixedTimeEquals(presented, _expected))
            return Verdict.Allowed;

        lock (_gate)
        {
            Prune(now, settings.FailureWindow);
            if (!_failures.TryGetValue(source, out var failures))
                _failures[source] = failures = new Failures(now);
            failures.Count++;
            Log.WrongToken(logger, source.ToString(), failures.Count, settings.MaxFailures);
        }
        return Verdict.Wrong;
    }

    /// <summary>Forgets finished windows so the table cannot grow without bound under a spray of sources.</summary>
    private void Prune(long now, TimeSpan window)
    {
        if (_failures.Count < 1024)
            return;
        foreach (var (address, failures) in _failures.ToList())
        {
            if (time.GetElapsedTime(failures.WindowStart, now) >= window)
                _failures.Remove(address);
        }
    }

    private static partial class Log
    {
        // Never the token itself.
        [LoggerMessage(3200, LogLevel.Warning, "Admin API: wrong token from {Source} ({Count} of {Limit} allowed per window)")]
        public static partial void WrongToken(ILogger logger, string source, int count, int limit);
    }
}
