<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * libums could not be used: the FFI extension is missing or disabled, the
 * library was not found (the message lists every place looked at), or its
 * version does not match the binding. Status is UMS_ERR_INTERNAL (98); the
 * document's "kind" is "library_unavailable" and "searched" lists the paths.
 */
class LibraryException extends InternalException
{
}
