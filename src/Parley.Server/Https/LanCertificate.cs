using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server.Https;

/// <summary>The names a LAN-mode certificate must cover: this machine's host name and its addresses.</summary>
public sealed record LanIdentity(string HostName, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>The DNS names in the certificate: the host name, <c>&lt;host&gt;.local</c> (mDNS) and localhost.</summary>
    public IReadOnlyList<string> DnsNames
    {
        get
        {
            var host = HostName.ToLowerInvariant();
            List<string> names = ["localhost"];
            if (host.Length > 0 && host != "localhost")
            {
                names.Add(host);
                if (!host.Contains('.', StringComparison.Ordinal))
                    names.Add(host + ".local");
            }
            return names;
        }
    }

    /// <summary>Loopback plus every address of an interface that is up, without IPv6 link-local ones (unusable in a URL).</summary>
    public static LanIdentity OfThisMachine()
    {
        var addresses = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up || n.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork || (a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal))
            .Append(IPAddress.Loopback)
            .Distinct()
            .ToList();
        return new LanIdentity(Dns.GetHostName(), addresses);
    }
}

/// <summary>
/// LAN mode's self-signed certificate: made on first start, kept in the data directory (mode 0600) so browsers
/// warn only once, and made again when it no longer covers this machine's addresses or nears expiry.
/// </summary>
public static class LanCertificate
{
    public const string FileName = "lan-certificate.pfx";

    /// <summary>How long a new certificate is valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    /// <summary>A certificate with less than this left is replaced.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>The kept certificate if it still fits <paramref name="identity"/>, else a new one (kept too).</summary>
    /// <param name="created">Whether a new one was made.</param>
    /// <exception cref="IOException">The data directory cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Likewise.</exception>
    public static X509Certificate2 LoadOrCreate(string directory, LanIdentity identity, DateTimeOffset now, out bool created)
    {
        var path = Path.Combine(directory, FileName);
        if (TryLoad(path) is { } kept)
        {
            if (Fits(kept, identity, now))
            {
                created = false;
                return kept;
            }
            kept.Dispose();
        }

        var certificate = Create(identity, now);
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(certificate.Export(X509ContentType.Pkcs12));
        }
        File.Move(temporary, path, overwrite: true);
        created = true;
        return certificate;
    }

    /// <summary>Whether <paramref name="certificate"/> names every address and name of <paramref name="identity"/> and has time left.</summary>
    public static bool Fits(X509Certificate2 certificate, LanIdentity identity, DateTimeOffset now)
    {
        if (certificate.NotBefore > now.LocalDateTime || certificate.NotAfter - RenewBefore < now.LocalDateTime)
            return false;
        var (dns, ips) = SubjectAlternativeNames(certificate);
        return identity.DnsNames.All(n => dns.Contains(n, StringComparer.OrdinalIgnoreCase)) && identity.Addresses.All(ips.Contains);
    }

    /// <summary>The DNS names and IP addresses a certificate is valid for.</summary>
    public static (IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> Addresses) SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        return extension is null ? ([], []) : ([.. extension.EnumerateDnsNames()], [.. extension.EnumerateIPAddresses()]);
    }

    /// <summary>A new self-signed ECDSA P-256 server certificate for <paramref name="identity"/>.</summary>
    public static X509Certificate2 Create(LanIdentity identity, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedName($"CN={EscapeCommonName(identity.DnsNames[^1])}, O=Parley LAN mode");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in identity.DnsNames)
            names.AddDnsName(name);
        foreach (var address in identity.Addresses)
            names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Backdated a day, so a phone whose clock is a little behind still accepts it.
        return request.CreateSelfSigned(now.AddDays(-1), now + Lifetime);
    }

    private static X509Certificate2? TryLoad(string path)
    {
        try
        {
            return File.Exists(path) ? X509CertificateLoader.LoadPkcs12FromFile(path, null) : null;
        }
        catch (CryptographicException)
        {
            return null; // damaged: made again
        }
    }

    private static string EscapeCommonName(string name) =>
        name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
