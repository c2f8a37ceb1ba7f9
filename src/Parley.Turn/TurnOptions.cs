using System.Net;
using Microsoft.Extensions.Options;

namespace Parley.Turn;

/// <summary>
/// Configuration of the embedded STUN/TURN server, section <c>"Turn"</c>. Every default is secure: relaying to
/// private, loopback and other special addresses is refused unless <see cref="AllowedPeerRanges"/> allows it.
/// </summary>
public sealed record TurnOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Turn";

    /// <summary>Whether the server runs at all. Default <c>true</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The long-term credential realm (RFC 8489 §9.2), as coturn's <c>realm</c>. Default <c>"parley"</c>.</summary>
    public string Realm { get; set; } = "parley";

    /// <summary>
    /// TURN REST shared secrets (coturn <c>static-auth-secret</c> / <c>use-auth-secret</c>). Every secret is accepted,
    /// so a new one can be added before the old one is removed (rotation). Required; no default.
    /// </summary>
    public List<string> SharedSecrets { get; set; } = [];

    /// <summary>
    /// The IP addresses the listeners bind to, e.g. <c>["0.0.0.0", "::"]</c>. Default empty, meaning <c>0.0.0.0</c>
    /// (every IPv4 interface). (An empty default, because configuration binding appends to a list's initial items.)
    /// </summary>
    public List<string> ListenAddresses { get; set; } = [];

    /// <summary><see cref="ListenAddresses"/>, or <c>0.0.0.0</c> when it is empty.</summary>
    public IReadOnlyList<string> EffectiveListenAddresses => ListenAddresses.Count == 0 ? ["0.0.0.0"] : ListenAddresses;

    /// <summary>STUN/TURN over UDP port; 0 picks a free port (tests); null disables UDP. Default 3478.</summary>
    public int? UdpPort { get; set; } = 3478;

    /// <summary>STUN/TURN over TCP port; 0 picks a free port; null disables TCP. Default 3478.</summary>
    public int? TcpPort { get; set; } = 3478;

    /// <summary>TURN over TLS port, used only when <see cref="TlsCertificatePath"/> is set; 0 picks a free port. Default 5349.</summary>
    public int TlsPort { get; set; } = 5349;

    /// <summary>Certificate for TLS: a PFX/PKCS#12 file, or a PEM certificate (then <see cref="TlsKeyPath"/> too). Default none (no TLS).</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key file for a PEM <see cref="TlsCertificatePath"/>. Default none.</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>Password of the PFX file, if any. Default none.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>
    /// Also serve TURN over TLS on the web server's HTTPS port(s), after the handshake the web server does with its own
    /// certificate: a connection that negotiates ALPN <c>stun.turn</c> (RFC 7443), or whose first bytes are a STUN
    /// message, goes to the TURN server; anything else goes on to HTTP. Only a host that owns the HTTPS listener can
    /// honour it (Parley.Server does when it serves HTTPS itself); the TURN server alone ignores it. Default false.
    /// </summary>
    public bool ShareHttpsPort { get; set; }

    /// <summary>
    /// The local IP addresses relay sockets bind to, at most one per family (coturn <c>relay-ip</c>). Required:
    /// e.g. <c>["203.0.113.5", "2001:db8::5"]</c>.
    /// </summary>
    public List<string> RelayAddresses { get; set; } = [];

    /// <summary>
    /// Public addresses advertised in XOR-RELAYED-ADDRESS instead of the relay address of the same family, when the
    /// server sits behind a 1:1 NAT (coturn <c>external-ip</c>). Default none.
    /// </summary>
    public List<string> ExternalAddresses { get; set; } = [];

    /// <summary>
    /// Host name or address put in the <c>turn:</c> URLs handed to browsers, e.g. <c>"turn.example.org"</c>. Default
    /// none: the host the browser used to reach Parley, which is right whenever TURN shares the web server's address.
    /// </summary>
    public string? PublicHost { get; set; }

    /// <summary>Lowest relay port (coturn <c>min-port</c>). Default 49152.</summary>
    public int MinRelayPort { get; set; } = 49152;

    /// <summary>Highest relay port (coturn <c>max-port</c>). Default 65535.</summary>
    public int MaxRelayPort { get; set; } = 65535;

    /// <summary>Allocation lifetime when the client asks for none (RFC 8656 §7.2). Default 10 minutes.</summary>
    public TimeSpan DefaultAllocationLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest allocation lifetime granted (RFC 8656 §7.2). Default 1 hour.</summary>
    public TimeSpan MaxAllocationLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Permission lifetime (RFC 8656 §9: exactly 300 s). Default 5 minutes; change only for tests.</summary>
    public TimeSpan PermissionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Channel binding lifetime (RFC 8656 §12: 10 minutes). Default 10 minutes; change only for tests.</summary>
    public TimeSpan ChannelBindingLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a nonce is good before 438 (Stale Nonce) asks for a new one. Default 10 minutes.</summary>
    public TimeSpan NonceLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Allocations one user id (the part after ':' in a REST username) may hold at once (486). Default 10.</summary>
    public int MaxAllocationsPerUser { get; set; } = 10;

    /// <summary>Allocations the server holds at once (486). Default 1000.</summary>
    public int MaxAllocations { get; set; } = 1000;

    /// <summary>
    /// Open TURN-over-TCP/TLS connections per listener; further connections are closed at once. Each plain TCP
    /// connection has a thread, so this bounds what a stranger can make the server hold. Default 1000.
    /// </summary>
    public int MaxStreamConnections { get; set; } = 1000;

    /// <summary>
    /// Threads that relay UDP on Linux (epoll loops; each has its own socket of every UDP listener and serves the relay
    /// sockets of the allocations made through it). 0, the default, picks one per two cores, at least one, at most four:
    /// on two cores one loop used 6-26 % less CPU per relayed packet than two, as the kernel's own share of the relaying
    /// runs beside it. Other platforms use a thread per socket and ignore this.
    /// </summary>
    public int UdpEventLoops { get; set; }

    /// <summary>
    /// Relay bandwidth per allocation in bytes per second, each direction, token bucket with one second of burst;
    /// excess datagrams are dropped. 0 means unlimited. Default 1 250 000 (10 Mbit/s).
    /// </summary>
    public long MaxBandwidthBytesPerSecond { get; set; } = 1_250_000;

    /// <summary>
    /// CIDR ranges of peers that may be relayed to although the relay policy refuses them by default (loopback,
    /// private, link-local, ...), e.g. <c>["10.0.0.0/8"]</c>. Default none.
    /// </summary>
    public List<string> AllowedPeerRanges { get; set; } = [];

    /// <summary>
    /// Whether an expired REST username may keep an existing allocation alive (Refresh, CreatePermission, ChannelBind on
    /// the allocation it created). A new Allocate always needs an unexpired username. Default <c>false</c>.
    /// </summary>
    public bool AllowExpiredRefresh { get; set; }

    /// <summary>Failed authentications from one IP within <see cref="FailedAuthWindow"/> before it is ignored. Default 20.</summary>
    public int FailedAuthLimit { get; set; } = 20;

    /// <summary>The window of <see cref="FailedAuthLimit"/>; the IP is ignored for the rest of it. Default 1 minute.</summary>
    public TimeSpan FailedAuthWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Over UDP, an unauthenticated request gets a response no larger than itself, or than this many bytes if the
    /// request is smaller (Chromium's first Allocate is 28 bytes; no 401 with REALM and NONCE fits in that). 0 is
    /// strict: never larger than the request, which leaves such clients unanswered. Default 80.
    /// </summary>
    public int UnauthenticatedResponseFloor { get; set; } = 80;

    /// <summary>SOFTWARE attribute value in authenticated responses; null sends none. Default none.</summary>
    public string? Software { get; set; }

    /// <summary>
    /// Whether 401 and 438 challenges offer the password algorithms of RFC 8489 §9.2 (the nonce cookie with the
    /// "Password algorithms" bit and PASSWORD-ALGORITHMS: SHA-256, then MD5), so that a client may authenticate with a
    /// SHA-256 key and MESSAGE-INTEGRITY-SHA256. Clients that ignore the offer (every browser) use MD5 and
    /// MESSAGE-INTEGRITY as before. Over UDP the offer is left out of a challenge it would make too large (see
    /// <see cref="UnauthenticatedResponseFloor"/>). <c>false</c>: challenges as before RFC 8489, MD5 keys only.
    /// Default <c>true</c>.
    /// </summary>
    public bool OfferPasswordAlgorithms { get; set; } = true;
}

/// <summary>Checks <see cref="TurnOptions"/> and reports every problem at once, each with how to fix it.</summary>
public sealed class TurnOptionsValidator : IValidateOptions<TurnOptions>
{
    // OpaqueString (RFC 8265 §4.2) maps non-ASCII spaces to U+0020, normalizes to NFC and refuses controls: a realm
    // it leaves unchanged is hashed as configured (RFC 8489 §9.2.2). REALM has fewer than 128 characters (§14.9).
    // NFC is not checked: with InvariantGlobalization (Directory.Build.props) .NET cannot normalize non-ASCII text,
    // so a non-ASCII realm must be written in NFC (docs/configuration.md); ASCII realms are always in NFC.
    internal static bool IsOpaqueStringStable(string realm) =>
        realm.Length < 128
        && !realm.Any(c => char.IsControl(c) || (c != ' ' && char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.SpaceSeparator));

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TurnOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        List<string> errors = [];
        if (string.IsNullOrWhiteSpace(options.Realm))
        {
            errors.Add("Turn:Realm is empty: set it to your domain, e.g. \"example.com\" (the same as coturn's realm).");
        }
        else if (!IsOpaqueStringStable(options.Realm))
        {
            errors.Add($"Turn:Realm '{options.Realm}' is not in its OpaqueString form (RFC 8265), which RFC 8489 §14.9 requires and keys hash (§9.2.2): use fewer than 128 characters and no control characters or spaces other than ' ', e.g. \"example.com\".");
        }

        if (options.SharedSecrets.Count == 0 || options.SharedSecrets.Exists(string.IsNullOrEmpty))
        {
            errors.Add("Turn:SharedSecrets needs at least one non-empty secret: add e.g. [\"<32 random bytes, base64>\"] (coturn static-auth-secret), or set Turn:Enabled to false.");
        }
        else if (options.SharedSecrets.Exists(s => s.Length < 16))
        {
            errors.Add("Turn:SharedSecrets has a secret shorter than 16 characters: use at least 16 random characters (e.g. `openssl rand -base64 32`).");
        }

        foreach (string address in options.ListenAddresses)
        {
            if (!IPAddress.TryParse(address, out _))
            {
                errors.Add($"Turn:ListenAddresses has '{address}', which is not an IP address: write e.g. \"0.0.0.0\" or \"::\".");
            }
        }

        CheckPort(errors, "Turn:UdpPort", options.UdpPort);
        CheckPort(errors, "Turn:TcpPort", options.TcpPort);
        if (options.TlsCertificatePath is not null)
        {
            CheckPort(errors, "Turn:TlsPort", options.TlsPort);
            if (!File.Exists(options.TlsCertificatePath))
            {
                errors.Add($"Turn:TlsCertificatePath '{options.TlsCertificatePath}' does not exist: point it at a PFX or PEM certificate, or remove it to disable TLS.");
            }

            if (options.TlsKeyPath is not null && !File.Exists(options.TlsKeyPath))
            {
                errors.Add($"Turn:TlsKeyPath '{options.TlsKeyPath}' does not exist: point it at the PEM private key of the certificate.");
            }
        }

        if (options.UdpPort is null && options.TcpPort is null && options.TlsCertificatePath is null)
        {
            errors.Add("Turn: no listener is configured: set Turn:UdpPort (3478), Turn:TcpPort or Turn:TlsCertificatePath, or set Turn:Enabled to false.");
        }

        CheckAddresses(errors, "Turn:RelayAddresses", options.RelayAddresses, allowUnspecified: false);
        if (options.RelayAddresses.Count == 0)
        {
            errors.Add("Turn:RelayAddresses is empty: add the local IP relay sockets bind to, e.g. [\"203.0.113.5\"] (coturn relay-ip).");
        }

        CheckAddresses(errors, "Turn:ExternalAddresses", options.ExternalAddresses, allowUnspecified: false);
        if (options.MinRelayPort is < 1 or > 65535 || options.MaxRelayPort is < 1 or > 65535 || options.MinRelayPort > options.MaxRelayPort)
        {
            errors.Add($"Turn:MinRelayPort/MaxRelayPort ({options.MinRelayPort}-{options.MaxRelayPort}) is not a port range: use 1-65535 with min <= max, e.g. 49152-65535.");
        }

        CheckPositive(errors, "Turn:DefaultAllocationLifetime", options.DefaultAllocationLifetime, "00:10:00");
        CheckPositive(errors, "Turn:MaxAllocationLifetime", options.MaxAllocationLifetime, "01:00:00");
        CheckPositive(errors, "Turn:PermissionLifetime", options.PermissionLifetime, "00:05:00");
        CheckPositive(errors, "Turn:ChannelBindingLifetime", options.ChannelBindingLifetime, "00:10:00");
        CheckPositive(errors, "Turn:NonceLifetime", options.NonceLifetime, "00:10:00");
        CheckPositive(errors, "Turn:FailedAuthWindow", options.FailedAuthWindow, "00:01:00");
        if (options.DefaultAllocationLifetime > options.MaxAllocationLifetime)
        {
            errors.Add("Turn:DefaultAllocationLifetime is longer than Turn:MaxAllocationLifetime: make it shorter or equal (defaults 00:10:00 and 01:00:00).");
        }

        if (options.MaxAllocationsPerUser < 1)
        {
            errors.Add("Turn:MaxAllocationsPerUser must be at least 1 (a call needs one per peer; default 10).");
        }

        if (options.MaxStreamConnections < 1)
        {
            errors.Add($"Turn:MaxStreamConnections is {options.MaxStreamConnections}: use at least 1 (default 1000).");
        }

        if (options.UdpEventLoops is < 0 or > 64)
        {
            errors.Add($"Turn:UdpEventLoops is {options.UdpEventLoops}: use 1-64 threads, or 0 for one per two cores (default 0).");
        }

        if (options.MaxAllocations < 1)
        {
            errors.Add("Turn:MaxAllocations must be at least 1 (default 1000).");
        }

        if (options.MaxBandwidthBytesPerSecond < 0)
        {
            errors.Add("Turn:MaxBandwidthBytesPerSecond is negative: use 0 for unlimited or a rate such as 1250000 (10 Mbit/s).");
        }

        if (options.FailedAuthLimit < 1)
        {
            errors.Add("Turn:FailedAuthLimit must be at least 1 (default 20).");
        }

        if (options.UnauthenticatedResponseFloor is < 0 or > 548)
        {
            errors.Add("Turn:UnauthenticatedResponseFloor must be 0-548 bytes (default 80; 0 is strict).");
        }

        foreach (string range in options.AllowedPeerRanges)
        {
            if (!IpRange.TryParse(range, out _))
            {
                errors.Add($"Turn:AllowedPeerRanges has '{range}', which is not a CIDR range: write e.g. \"10.0.0.0/8\" or \"fd00::/8\".");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckPort(List<string> errors, string key, int? port)
    {
        if (port is < 0 or > 65535)
        {
            errors.Add($"{key} is {port}: use 0-65535 (0 picks a free port).");
        }
    }

    private static void CheckPositive(List<string> errors, string key, TimeSpan value, string example)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key} must be positive: write a time span such as \"{example}\".");
        }
    }

    private static void CheckAddresses(List<string> errors, string key, List<string> addresses, bool allowUnspecified)
    {
        bool v4 = false, v6 = false;
        foreach (string text in addresses)
        {
            if (!IPAddress.TryParse(text, out IPAddress? address))
            {
                errors.Add($"{key} has '{text}', which is not an IP address: write e.g. \"203.0.113.5\".");
                continue;
            }

            if (!allowUnspecified && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
            {
                errors.Add($"{key} has '{text}': a relayed address must be a concrete IP clients can reach, e.g. \"203.0.113.5\".");
            }

            bool isV6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
            if ((isV6 && v6) || (!isV6 && v4))
            {
                errors.Add($"{key} has more than one {(isV6 ? "IPv6" : "IPv4")} address: keep one per family.");
            }

            v4 |= !isV6;
            v6 |= isV6;
        }
    }
}
