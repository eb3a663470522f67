<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * Base of every exception the binding throws.
 *
 * It carries the library's error document: status, statusName, message,
 * phase and, when known, field, errCode, errMsg, httpStatus, the gateway's
 * answer and (pending / operation failed) the answer's state.
 * The library never puts secrets (appKey, signatures, tokens, the
 * notification key, real-name values) in that document, and the binding adds
 * none, so these exceptions are safe to log.
 */
class UmsException extends \RuntimeException
{
    private int $status;
    private string $statusName;
    /** @var array<string, mixed> */
    private array $document;
    private string $documentText;

    /**
     * @param array<string, mixed> $document the parsed error document
     * @param string|null $documentText the document as the library wrote it (JSON)
     */
    public function __construct(int $status, string $statusName, string $message, array $document = [], ?string $documentText = null, ?\Throwable $previous = null)
    {
        parent::__construct($message, $status, $previous);
        $this->status = $status;
        $this->statusName = $statusName;
        $this->document = $document;
        $this->documentText = $documentText ?? (string) json_encode($document, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    }

    /** The UmsStatus number (also getCode()). */
    public function getStatus(): int
    {
        return $this->status;
    }

    /** The status name, e.g. "UMS_ERR_VALIDATION". */
    public function getStatusName(): string
    {
        return $this->statusName;
    }

    /**
     * The library's error document, parsed.
     *
     * @return array<string, mixed>
     */
    public function getDocument(): array
    {
        return $this->document;
    }

    /**
     * The error document as JSON text, exactly as the library wrote it (keeps
     * {} and [] apart, which getDocument() cannot).
     */
    public function getDocumentJson(): string
    {
        return $this->documentText;
    }

    /** The configuration key or request field at fault, when known. */
    public function getField(): ?string
    {
        return self::text($this->document['field'] ?? null);
    }

    /** The gateway's errCode, when it answered. */
    public function getErrCode(): ?string
    {
        return self::text($this->document['errCode'] ?? null);
    }

    /** The gateway's errMsg (or errInfo), when it answered. */
    public function getErrMsg(): ?string
    {
        return self::text($this->document['errMsg'] ?? null);
    }

    /** The HTTP status of the gateway's answer, when there was one. */
    public function getHttpStatus(): ?int
    {
        $value = $this->document['httpStatus'] ?? null;
        return is_int($value) ? $value : null;
    }

    /**
     * The gateway's answer as a parsed JSON object, when there was one.
     *
     * @return array<string, mixed>|null
     */
    public function getResponse(): ?array
    {
        $value = $this->document['response'] ?? null;
        return is_array($value) ? $value : null;
    }

    /**
     * Where the call was when it failed: "local" (nothing left the process),
     * "connect" (the connection was being set up; not a byte of the request
     * written) or "sent" (the request was handed to the network). Null when
     * the document has no phase (errors made by the binding itself, before
     * any call, are local).
     */
    public function getPhase(): ?string
    {
        return self::text($this->document['phase'] ?? null);
    }

    /**
     * For PendingException and OperationFailedException: the answer's field
     * that tells whether the effect is final, e.g. "refundStatus".
     */
    public function getStateField(): ?string
    {
        return self::text($this->document['stateField'] ?? null);
    }

    /**
     * For PendingException and OperationFailedException: the value of that
     * field, e.g. "PROCESSING", "UNKNOWN" or "FAIL".
     */
    public function getState(): ?string
    {
        return self::text($this->document['state'] ?? null);
    }

    /**
     * For PendingException (false) and OperationFailedException (true):
     * whether the gateway's state is final. Null for other exceptions.
     */
    public function isSettled(): ?bool
    {
        $value = $this->document['settled'] ?? null;
        return is_bool($value) ? $value : null;
    }

    /** True when the request may have been processed: query, never resend. */
    public function isOutcomeUnknown(): bool
    {
        return ($this->document['outcomeUnknown'] ?? false) === true;
    }

    /** True when the library knows nothing reached the gateway. */
    public function isNothingSent(): bool
    {
        return ($this->document['nothingSent'] ?? false) === true;
    }

    private static function text(mixed $value): ?string
    {
        return is_string($value) ? $value : null;
    }
}
