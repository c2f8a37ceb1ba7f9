using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

/// <summary>What a resume token carries: enough to recreate a session after the server restarted.</summary>
internal sealed record ResumeTokenPayload
{
    public required string PeerId { get; init; }
    public required long IssuedAtMs { get; init; }
    public string? Name { get; init; }
    public string? Room { get; init; }
    public long JoinedAtMs { get; init; }
    public bool Audio { get; init; }
    public bool Video { get; init; }
    public byte[]? PasswordSalt { get; init; }
    public byte[]? PasswordHash { get; init; }
}

/// <summary>
/// Seals resume tokens with AES-GCM: opaque to clients, unforgeable, and readable by any process holding the
/// key, which is what lets a restarted server (or another node) take a session back.
/// </summary>
internal sealed class ResumeTokenSealer(byte[] key)
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public static bool IsValidKey(string base64)
    {
        Span<byte> buffer = stackalloc byte[48];
        return Convert.TryFromBase64String(base64, buffer, out var written) && written == 32;
    }

    public string Seal(ResumeTokenPayload payload)
    {
        var plain = JsonSerializer.SerializeToUtf8Bytes(payload, ProtocolJsonContext.Default.ResumeTokenPayload);
        var sealedBytes = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes, plain.Length), sealedBytes.AsSpan(NonceBytes + plain.Length));
        return Base64Url.EncodeToString(sealedBytes);
    }

    public bool TryUnseal(string token, out ResumeTokenPayload? payload)
    {
        payload = null;
        if (token.Length > 4096)
            return false;
        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return false;
        }
        if (sealedBytes.Length < NonceBytes + TagBytes)
            return false;

        var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, plain.Length),
                sealedBytes.AsSpan(NonceBytes + plain.Length), plain);
            payload = JsonSerializer.Deserialize(plain, ProtocolJsonContext.Default.ResumeTokenPayload);
            return payload is not null;
        }
        catch (Exception e) when (e is AuthenticationTagMismatchException or JsonException)
        {
            return false;
        }
    }
}
