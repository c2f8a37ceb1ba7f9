using System.Security.Cryptography;

namespace Parley.Signaling;

/// <summary>
/// A random secret generated on first start and kept in a file (mode 0600) in Parley's data directory, so that
/// what it protects (resume tokens, TURN credentials) survives restarts without anyone configuring it.
/// </summary>
public static class PersistentSecret
{
    /// <summary>~/.local/share/parley unless configured.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "parley");

    /// <summary>The base64 secret of <paramref name="byteCount"/> random bytes in <paramref name="directory"/>/<paramref name="fileName"/>, created if absent.</summary>
    /// <exception cref="IOException">The file can be neither read nor created.</exception>
    /// <exception cref="UnauthorizedAccessException">Likewise.</exception>
    public static string LoadOrCreate(string directory, string fileName, int byteCount = 32)
    {
        var path = Path.Combine(directory, fileName);
        if (TryRead(path, byteCount, out var existing))
            return existing;
        Directory.CreateDirectory(directory);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(byteCount));
        try
        {
            // CreateNew: when two processes start at once, one writes and the other reads its secret.
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(System.Text.Encoding.ASCII.GetBytes(secret));
            return secret;
        }
        catch (IOException) when (TryRead(path, byteCount, out var raced))
        {
            return raced;
        }
    }

    private static bool TryRead(string path, int byteCount, out string secret)
    {
        secret = "";
        if (!File.Exists(path))
            return false;
        var text = File.ReadAllText(path).Trim();
        Span<byte> buffer = stackalloc byte[byteCount + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written) || written != byteCount)
            return false;
        secret = text;
        return true;
    }
}
