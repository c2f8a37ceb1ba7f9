using System.Net.NetworkInformation;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Parley.Signaling;

namespace Parley.Server.Https;

/// <summary>
/// The certificate Kestrel presents, swapped without a restart: the configured files are watched and reloaded
/// (debounced) when they change, and a half-written or invalid replacement leaves the current one in place. In LAN
/// mode the generated certificate is checked again when the machine's addresses change and once a day.
/// </summary>
public sealed class ServerCertificate : IDisposable
{
    /// <summary>Quiet time after the last file event before reloading: renewals write several files.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(500);

    private readonly HttpsOptions _options;
    private readonly string _dataDirectory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer? _reloadTimer;
    private readonly ITimer? _dailyCheck;
    private readonly Lock _gate = new();
    private volatile Snapshot? _current;
    private int _reloads;
    private int _failedReloads;

    public ServerCertificate(IOptions<HttpsOptions> options, IOptions<SignalingOptions> signaling, ILogger<ServerCertificate> logger, TimeProvider? time = null)
    {
        _options = options.Value;
        _dataDirectory = signaling.Value.EffectiveDataDirectory;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        if (!_options.Enabled)
            return;

        _current = _options.Lan ? new Snapshot(LoadLan()) : LoadConfiguredOrThrow();
        _reloadTimer = _time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_options.Lan)
        {
            NetworkChange.NetworkAddressChanged += OnAddressChanged;
            _dailyCheck = _time.CreateTimer(_ => Reload(), null, TimeSpan.FromDays(1), TimeSpan.FromDays(1));
        }
        else
        {
            WatchFiles();
        }
    }

    /// <summary>Whether HTTPS is on (a certificate is configured, or LAN mode).</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>The certificate presented to new connections; null when HTTPS is off.</summary>
    public X509Certificate2? Current => _current?.Leaf;

    /// <summary>The certificate and its chain, as TLS handshakes use them.</summary>
    public SslStreamCertificateContext? Context => _current?.Context;

    /// <summary>Reloads that installed a different certificate.</summary>
    public int Reloads => Volatile.Read(ref _reloads);

    /// <summary>Reloads that failed (the files were invalid or half-written): the previous certificate stayed.</summary>
    public int FailedReloads => Volatile.Read(ref _failedReloads);

    public void Dispose()
    {
        NetworkChange.NetworkAddressChanged -= OnAddressChanged;
        foreach (var watcher in _watchers)
            watcher.Dispose();
        _reloadTimer?.Dispose();
        _dailyCheck?.Dispose();
    }

    private Snapshot LoadConfiguredOrThrow() =>
        CertificateFiles.TryLoad(_options, out var loaded, out var problem)
            ? new Snapshot(loaded)
            : throw new InvalidOperationException(problem);

    private LoadedCertificate LoadLan()
    {
        var identity = LanIdentity.OfThisMachine();
        try
        {
            var certificate = LanCertificate.LoadOrCreate(_dataDirectory, identity, _time.GetUtcNow(), out var created);
            if (created)
                HttpsLog.LanCertificateCreated(_logger, certificate.Thumbprint, Path.Combine(_dataDirectory, LanCertificate.FileName));
            return new LoadedCertificate(certificate, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still serves HTTPS; browsers only warn again after each restart.
            HttpsLog.LanCertificateNotPersisted(_logger, e, _dataDirectory);
            return new LoadedCertificate(LanCertificate.Create(identity, _time.GetUtcNow()), []);
        }
    }

    private void WatchFiles()
    {
        var files = new[] { _options.CertificatePath, _options.KeyPath }.OfType<string>().Select(Path.GetFullPath).Distinct().ToList();
        foreach (var directory in files.Select(f => Path.GetDirectoryName(f)!).Distinct())
        {
            var names = files.Where(f => Path.GetDirectoryName(f) == directory).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler changed = (_, e) =>
            {
                if (names.Contains(e.Name ?? ""))
                    _reloadTimer!.Change(Debounce, Timeout.InfiniteTimeSpan);
            };
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            // certbot and `mv new old` replace the file by renaming onto it.
            watcher.Renamed += (_, e) =>
            {
                if (names.Contains(e.Name ?? "") || names.Contains(e.OldName ?? ""))
                    _reloadTimer!.Change(Debounce, Timeout.InfiniteTimeSpan);
            };
            watcher.Error += (_, e) => HttpsLog.WatchFailed(_logger, e.GetException(), directory);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    private void OnAddressChanged(object? sender, EventArgs e) => _reloadTimer?.Change(TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);

    private void Reload()
    {
        try
        {
            ReloadOnce();
        }
        catch (Exception e)
        {
            // A timer callback must not take the process down: keep serving the current certificate.
            Interlocked.Increment(ref _failedReloads);
            HttpsLog.ReloadCrashed(_logger, e, _current?.Leaf.Thumbprint ?? "");
        }
    }

    private void ReloadOnce()
    {
        lock (_gate)
        {
            LoadedCertificate? next;
            if (_options.Lan)
            {
                next = LoadLan();
            }
            else if (!CertificateFiles.TryLoad(_options, out next, out var problem))
            {
                Interlocked.Increment(ref _failedReloads);
                HttpsLog.ReloadFailed(_logger, problem, _current?.Leaf.Thumbprint ?? "");
                return;
            }
            if (next.Leaf.Thumbprint == _current?.Leaf.Thumbprint)
                return;
            _current = new Snapshot(next);
            Interlocked.Increment(ref _reloads);
            HttpsLog.CertificateReloaded(_logger, next.Leaf.Thumbprint, next.Leaf.NotAfter);
        }
    }

    /// <summary>One certificate with its handshake context, swapped as a whole.</summary>
    private sealed class Snapshot(LoadedCertificate certificate)
    {
        public X509Certificate2 Leaf { get; } = certificate.Leaf;

        public SslStreamCertificateContext Context { get; } =
            SslStreamCertificateContext.Create(certificate.Leaf, certificate.Intermediates, offline: true);
    }
}

internal static partial class HttpsLog
{
    [LoggerMessage(3300, LogLevel.Information, "Installed the new HTTPS certificate {Thumbprint} (valid until {NotAfter:u})")]
    public static partial void CertificateReloaded(ILogger logger, string thumbprint, DateTime notAfter);

    [LoggerMessage(3301, LogLevel.Warning, "The changed HTTPS certificate files cannot be used yet, still serving {Thumbprint}: {Problem}")]
    public static partial void ReloadFailed(ILogger logger, string problem, string thumbprint);

    [LoggerMessage(3305, LogLevel.Error, "Reloading the HTTPS certificate failed unexpectedly, still serving {Thumbprint}")]
    public static partial void ReloadCrashed(ILogger logger, Exception exception, string thumbprint);

    [LoggerMessage(3302, LogLevel.Warning, "Watching the certificate folder {Directory} failed; certificate changes there need a restart")]
    public static partial void WatchFailed(ILogger logger, Exception exception, string directory);

    [LoggerMessage(3303, LogLevel.Information, "LAN mode: made a new self-signed certificate {Thumbprint}, kept in {Path}")]
    public static partial void LanCertificateCreated(ILogger logger, string thumbprint, string path);

    [LoggerMessage(3304, LogLevel.Warning, "LAN mode: could not keep the certificate in {Directory}; using one for this run only (browsers will warn again after a restart)")]
    public static partial void LanCertificateNotPersisted(ILogger logger, Exception exception, string directory);
}
