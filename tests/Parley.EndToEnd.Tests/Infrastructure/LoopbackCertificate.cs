using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// One self-signed certificate for 127.0.0.1 for the whole test run. Pages ignore certificate errors
/// (<c>IgnoreHTTPSErrors</c>), but WebRTC's TURN-over-TLS client does not ask the page: Chromium is started trusting this
/// certificate's key (<see cref="SpkiSha256"/>, <c>--ignore-certificate-errors-spki-list</c>).
/// </summary>
internal static class LoopbackCertificate
{
    private static readonly Lazy<(X509Certificate2 Certificate, string KeyPem)> s_certificate = new(Create);

    /// <summary>Base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's SPKI allow-list wants it.</summary>
    public static string SpkiSha256 =>
        Convert.ToBase64String(SHA256.HashData(s_certificate.Value.Certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>Writes <c>fullchain.pem</c> and <c>privkey.pem</c> into <paramref name="directory"/> and returns their paths.</summary>
    public static async Task<(string CertificatePath, string KeyPath)> WritePemAsync(string directory)
    {
        var (certificate, keyPem) = s_certificate.Value;
        var certificatePath = Path.Combine(directory, "fullchain.pem");
        var keyPath = Path.Combine(directory, "privkey.pem");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, keyPem);
        return (certificatePath, keyPath);
    }

    private static (X509Certificate2, string) Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        return (certificate, key.ExportPkcs8PrivateKeyPem());
    }
}
