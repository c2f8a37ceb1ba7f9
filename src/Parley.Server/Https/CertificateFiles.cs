using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server.Https;

/// <summary>A certificate with its private key and the chain sent to clients.</summary>
public sealed record LoadedCertificate(X509Certificate2 Leaf, X509Certificate2Collection Intermediates);

/// <summary>
/// Loads the configured certificate (PEM or PFX). Failures are values: one plain sentence saying which file is wrong
/// and how, for startup validation and for a failed reload.
/// </summary>
internal static class CertificateFiles
{
    public static bool TryLoad(HttpsOptions options, [NotNullWhen(true)] out LoadedCertificate? certificate, out string problem)
    {
        certificate = null;
        var path = options.CertificatePath!;
        try
        {
            certificate = IsPem(options) ? LoadPem(path, options.KeyPath ?? path, options.CertificatePassword) : LoadPfx(path, options.CertificatePassword);
            if (!certificate.Leaf.HasPrivateKey)
            {
                problem = $"Https:CertificatePath '{path}' has no private key: set Https:KeyPath to the PEM key (privkey.pem), or use a PFX that includes it.";
                certificate = null;
                return false;
            }
            problem = "";
            return true;
        }
        catch (CertificateProblem e)
        {
            problem = e.Message;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            var missing = e is FileNotFoundException { FileName: { } file } ? file : path;
            var key = missing == options.KeyPath ? "Https:KeyPath" : "Https:CertificatePath";
            problem = $"{key} '{missing}' does not exist: point it at the {(key == "Https:KeyPath" ? "PEM private key (privkey.pem)" : "certificate (fullchain.pem or a .pfx)")}.";
        }
        catch (UnauthorizedAccessException)
        {
            problem = $"The certificate files ('{path}'{(options.KeyPath is null ? "" : $", '{options.KeyPath}'")}) cannot be read by this user: grant read access (e.g. add the user to the group owning them).";
        }
        catch (IOException e)
        {
            problem = $"Https:CertificatePath '{path}' cannot be read: {e.Message}";
        }
        return false;
    }

    private static bool IsPem(HttpsOptions options) =>
        options.KeyPath is not null
        || options.CertificatePath!.EndsWith(".pem", StringComparison.OrdinalIgnoreCase)
        || options.CertificatePath.EndsWith(".crt", StringComparison.OrdinalIgnoreCase);

    private static LoadedCertificate LoadPem(string certificatePath, string keyPath, string? password)
    {
        var certificateText = ReadText(certificatePath);
        var keyText = keyPath == certificatePath ? certificateText : ReadText(keyPath);
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certificateText);
        }
        catch (CryptographicException)
        {
            // Reported below as "no certificate".
        }
        if (chain.Count == 0)
            throw new CertificateProblem($"Https:CertificatePath '{certificatePath}' holds no PEM certificate (-----BEGIN CERTIFICATE-----): point it at fullchain.pem.");

        X509Certificate2 leaf;
        try
        {
            leaf = keyText.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromEncryptedPem(certificateText, keyText, password ?? "")
                : X509Certificate2.CreateFromPem(certificateText, keyText);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new CertificateProblem(KeyLoadsAlone(keyText, password)
                ? $"Https:KeyPath '{keyPath}' does not match the certificate in '{certificatePath}': use the key the certificate was issued for."
                : keyText.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
                    ? $"Https:KeyPath '{keyPath}' could not be decrypted: check Https:CertificatePassword."
                    : $"Https:KeyPath '{keyPath}' holds no PEM private key this server can use (RSA or ECDSA): point it at privkey.pem.");
        }
        return new LoadedCertificate(leaf, [.. chain.Skip(1)]);
    }

    /// <summary>Whether the key is a usable RSA or ECDSA key by itself (so a failure to pair it means a mismatch).</summary>
    private static bool KeyLoadsAlone(string keyText, string? password)
    {
        foreach (AsymmetricAlgorithm key in new AsymmetricAlgorithm[] { RSA.Create(), ECDsa.Create() })
        {
            using (key)
            {
                try
                {
                    if (keyText.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
                        key.ImportFromEncryptedPem(keyText, password ?? "");
                    else
                        key.ImportFromPem(keyText);
                    return true;
                }
                catch (Exception e) when (e is ArgumentException or CryptographicException)
                {
                    // Not this kind of key.
                }
            }
        }
        return false;
    }

    private static LoadedCertificate LoadPfx(string path, string? password)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(null, path);
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
        }
        catch (CryptographicException)
        {
            throw new CertificateProblem($"Https:CertificatePath '{path}' could not be opened as PFX: the Https:CertificatePassword is wrong, or the file is not a PFX (for PEM files name them .pem or set Https:KeyPath).");
        }
        var leaf = all.FirstOrDefault(c => c.HasPrivateKey) ?? all.FirstOrDefault()
            ?? throw new CertificateProblem($"Https:CertificatePath '{path}' holds no certificate.");
        return new LoadedCertificate(leaf, [.. all.Where(c => !ReferenceEquals(c, leaf))]);
    }

    private static string ReadText(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(null, path);
        return File.ReadAllText(path);
    }

    private sealed class CertificateProblem(string message) : Exception(message);
}
