namespace Sso.Protocols;

/// <summary>
/// The outcome of an operation whose failures are expected (bad input, a failed check):
/// either a value or an error, never both. Exceptions are kept for bugs and broken infrastructure.
/// </summary>
public readonly struct Result<TValue, TError>
{
    private readonly TValue? _value;
    private readonly TError? _error;

    private Result(TValue value)
    {
        _value = value;
        _error = default;
        IsSuccess = true;
    }

    private Result(TError error, bool _)
    {
        _value = default;
        _error = error;
        IsSuccess = false;
    }

    public bool IsSuccess { get; }

    public TValue Value => IsSuccess
        ? _value!
        : throw new InvalidOperationException($"The result is a failure ({_error}); there is no value.");

    public TError Error => !IsSuccess
        ? _error!
        : throw new InvalidOperationException("The result is a success; there is no error.");

    public static Result<TValue, TError> Success(TValue value) => new(value);

    public static Result<TValue, TError> Failure(TError error) => new(error, false);

    public static implicit operator Result<TValue, TError>(TValue value) => new(value);

    public static implicit operator Result<TValue, TError>(TError error) => new(error, false);

    public bool TryGetValue(out TValue value, out TError error)
    {
        value = _value!;
        error = _error!;
        return IsSuccess;
    }

    public override string ToString() => IsSuccess ? $"Success({_value})" : $"Failure({_error})";
}
