using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parley.Signaling;

/// <summary>
/// The key sealing resume tokens: from configuration, else generated once and kept in the data directory so
/// that clients can resume their sessions after the server restarts.
/// </summary>
public sealed class ResumeKeyProvider(IOptions<SignalingOptions> options, ILogger<ResumeKeyProvider> logger)
{
    private const string FileName = "resume.key";

    public byte[] GetKey()
    {
        if (!string.IsNullOrEmpty(options.Value.ResumeKey))
            return Convert.FromBase64String(options.Value.ResumeKey);

        var directory = options.Value.DataDirectory is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "parley");
        var path = Path.Combine(directory, FileName);
        try
        {
            if (TryRead(path, out var existing))
                return existing;
            Directory.CreateDirectory(directory);
            var key = RandomNumberGenerator.GetBytes(32);
            try
            {
                // CreateNew: when two processes start at once, one writes and the other reads its key.
                using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                if (!OperatingSystem.IsWindows())
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                file.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(key)));
                return key;
            }
            catch (IOException) when (TryRead(path, out var raced))
            {
                return raced;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ResumeKeyNotPersisted(logger, e, path);
            return RandomNumberGenerator.GetBytes(32);
        }
    }

    private static bool TryRead(string path, out byte[] key)
    {
        key = [];
        if (!File.Exists(path))
            return false;
        var text = File.ReadAllText(path).Trim();
        if (!ResumeTokenSealer.IsValidKey(text))
            return false;
        key = Convert.FromBase64String(text);
        return true;
    }
}
