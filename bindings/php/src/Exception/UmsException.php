<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * Base of every exception the binding throws.
 *
 * It carries the library's error document: status, kind, message, phase,
 * nothingSent, outcomeUnknown and, when known, field, errCode, errMsg,
 * httpStatus, the gateway's answer and (pending / operation failed) the
 * answer's state. Every getter exists on this class and returns null when it
 * does not apply (getReason() is set for NotificationException only).
 *
 * getMessage() is "<kind>: <message>" followed by what the message leaves
 * out: (field 'x'), (errCode X: errMsg), (HTTP n), e.g.
 * "gateway_rejected: the gateway rejected the request with BAD_SIGN
 * (errCode BAD_SIGN: 签名错误) (HTTP 200)": the same text as the Python
 * binding's str(e). getRawMessage() is the library's explanation alone.
 *
 * The library never puts secrets (appKey, signatures, tokens, the
 * notification key, real-name values) in that document, and the binding adds
 * none, so these exceptions are safe to log.
 */
class UmsException extends \RuntimeException
{
    private int $status;
    private string $statusName;
    private string $rawMessage;
    /** @var array<string, mixed> */
    private array $document;
    private string $documentText;

    /**
     * @param string $message the library's explanation (getRawMessage());
     *        getMessage() is built from it and the document
     * @param array<string, mixed> $document the parsed error document
     * @param string|null $documentText the document as the library wrote it (JSON)
     */
    public function __construct(int $status, string $statusName, string $message, array $document = [], ?string $documentText = null, ?\Throwable $previous = null)
    {
        // A document made by the binding may lack what the library always
        // writes: the status name, a kind derived from it and, for errors
        // that are local by definition, where the call was.
        $document += ['status' => $statusName];
        if (!isset($document['kind']) && str_starts_with($statusName, 'UMS_ERR_')) {
            $document['kind'] = strtolower(substr($statusName, strlen('UMS_ERR_')));
        }
        $document += static::localDefaults();
        $this->status = $status;
        $this->statusName = $statusName;
        $this->rawMessage = $message;
        $this->document = $document;
        $this->documentText = $documentText ?? (string) json_encode($document, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        parent::__construct($this->summary(), $status, $previous);
    }

    /**
     * Keys a document of this class gets when it lacks them; ConfigException
     * and ValidationException are local by definition (phase "local",
     * nothing sent).
     *
     * @return array<string, mixed>
     */
    protected static function localDefaults(): array
    {
        return [];
    }

    /**
     * "<kind>: <message>" and, each only when set and not already in the
     * message, (field 'x'), (errCode X: errMsg) or (errMsg M), (HTTP n).
     * Built only from the document, which holds no secrets.
     */
    private function summary(): string
    {
        $message = $this->rawMessage;
        $kind = $this->getKind();
        $head = $kind !== null && $kind !== '' ? $kind : $this->statusName;
        $text = $message !== '' ? $head . ': ' . $message : $head;
        $details = [];
        $field = $this->getField();
        if ($field !== null && $field !== '' && !str_contains($message, $field)) {
            $details[] = 'field ' . self::quoted($field);
        }
        $errCode = $this->getErrCode();
        $errMsg = $this->getErrMsg();
        if ($errCode !== null && $errCode !== '') {
            $details[] = 'errCode ' . $errCode . ($errMsg !== null && $errMsg !== '' ? ': ' . $errMsg : '');
        } elseif ($errMsg !== null && $errMsg !== '' && !str_contains($message, $errMsg)) {
            $details[] = 'errMsg ' . $errMsg;
        }
        $http = $this->getHttpStatus();
        if ($http !== null && !str_contains($message, 'HTTP')) {
            $details[] = 'HTTP ' . $http;
        }
        foreach ($details as $detail) {
            $text .= ' (' . $detail . ')';
        }
        return $text;
    }

    /** Quoted as Python's repr() quotes a plain string: 'x', or "x'y". */
    private static function quoted(string $value): string
    {
        $value = str_replace('\\', '\\\\', $value);
        if (str_contains($value, "'") && !str_contains($value, '"')) {
            return '"' . $value . '"';
        }
        return "'" . str_replace("'", "\\'", $value) . "'";
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
     * The library's short name of the failure, e.g. "validation",
     * "gateway_rejected", "outcome_unknown"; "client_closed" for
     * ClientClosedException.
     */
    public function getKind(): ?string
    {
        return self::text($this->document['kind'] ?? null);
    }

    /**
     * The library's explanation alone (getMessage() is
     * "<kind>: <explanation>" plus the details it leaves out).
     */
    public function getRawMessage(): string
    {
        return $this->rawMessage;
    }

    /**
     * For NotificationException: why the notification was refused
     * (bad_signature, missing_sign, unknown_sign_type, duplicate_field,
     * malformed). Null for every other exception.
     */
    public function getReason(): ?string
    {
        return null;
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

    /**
     * True when the request may have been processed: query, never resend.
     * (Every library document says; false when a document lacks it.)
     */
    public function isOutcomeUnknown(): bool
    {
        return ($this->document['outcomeUnknown'] ?? false) === true;
    }

    /**
     * True when the library knows nothing reached the gateway. (Every library
     * document says; false when a document lacks it.)
     */
    public function isNothingSent(): bool
    {
        return ($this->document['nothingSent'] ?? false) === true;
    }

    private static function text(mixed $value): ?string
    {
        return is_string($value) ? $value : null;
    }
}
