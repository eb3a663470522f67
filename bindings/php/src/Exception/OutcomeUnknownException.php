<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The request may have reached the gateway and its effect is unknown
 * (UMS_ERR_OUTCOME_UNKNOWN): money may have moved. Never resend a
 * money-moving call after this; query the bill first.
 */
class OutcomeUnknownException extends UmsException
{
}
