<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The TLS handshake failed (UMS_ERR_TLS): unknown CA, expired certificate,
 * wrong host, or not TLS at all. Nothing was sent.
 */
class TlsException extends TransportException
{
}
